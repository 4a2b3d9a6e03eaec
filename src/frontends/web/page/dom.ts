// DOM and text helpers shared by every part of the page.

/** The element with this id; a missing one is a bug in index.html, so it throws. */
export const $ = <T extends HTMLElement = HTMLElement>(id: string): T => {
  const el = document.getElementById(id);
  if (!el) throw new Error(`the page has no #${id}`);
  return el as T;
};
/** Sets the text of the element with this id. */
export const text = (id: string, s: string) => ($(id).textContent = s);
/** Bytes as MiB with two decimals. */
export const mib = (b: number) => `${(b / 2 ** 20).toFixed(2)} MiB`;
/** A duration in ms, in the unit that reads best. */
export const secs = (ms: number) => (ms >= 10_000 ? `${(ms / 1000).toFixed(0)} s` : ms >= 1000 ? `${(ms / 1000).toFixed(1)} s` : `${ms.toFixed(0)} ms`);
/** A fraction as a percentage with one decimal. */
export const pct = (a: number) => `${(100 * a).toFixed(1)}%`;
/** An error's message, cut short enough for the banner. */
export const errText = (e: unknown) => (e instanceof Error ? e.message : String(e)).slice(0, 600);

/** A new element with attributes and children. */
export function el<K extends keyof HTMLElementTagNameMap>(tag: K, props: Partial<Record<string, string>> = {}, ...children: (Node | string)[]): HTMLElementTagNameMap[K] {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(props)) if (v !== undefined) e.setAttribute(k, v);
  e.append(...children);
  return e;
}

/** Shows a message over the page (an empty message hides it). */
export function banner(message: string, kind: 'info' | 'error' | 'ok' = 'info'): void {
  const b = $('banner');
  b.hidden = message === '';
  b.className = `banner ${kind === 'info' ? '' : kind}`;
  b.textContent = message;
}

/** The one-line status of the training card. */
export function status(s: string): void {
  text('status', s);
}

/** For button handlers: a failure goes to the banner instead of the console, and the page keeps working. */
export function reportErrors(p: Promise<unknown>): void {
  void p.catch((e: unknown) => {
    banner(errText(e), 'error');
    status('error');
  });
}
