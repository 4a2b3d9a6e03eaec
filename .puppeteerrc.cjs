// The machines have no route to the browser download hosts: drive Debian's system Chromium instead.
module.exports = { skipDownload: true };
