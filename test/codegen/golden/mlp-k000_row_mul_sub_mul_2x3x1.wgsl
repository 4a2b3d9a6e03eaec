// k000_row_mul_sub_mul_2x3x1: row kernel, group wg32 rows6x8 reductions2; workgroup 32x1x1, dispatch 6x1x1
//   binding 0 buf0 (read/write): %8 sum f32[2,3,1]
//   binding 1 buf1 (read): %0 input "x" f32[2,3,8]
//   binding 2 buf2 (read/write): %3 sum f32[2,3,1]
@group(0) @binding(0) var<storage, read_write> buf0: array<f32>;
@group(0) @binding(1) var<storage, read> buf1: array<f32>;
@group(0) @binding(2) var<storage, read_write> buf2: array<f32>;
var<workgroup> red: array<f32, 32>;

@compute @workgroup_size(32, 1, 1)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let opaque_0 = wid.x >> 31u; // 0 (workgroup ids are < 65536): keeps loop bounds from being constants the driver unrolls
  let row_1 = wid.x + wid.y * nwg.x;
  if (row_1 >= 6u) { return; }
  let i_2 = row_1 / 3u;
  let i_3 = row_1 % 3u;
  var acc_4 = 0.0;
  for (var j_5 = lid; j_5 < opaque_0 + 8u; j_5 += 32u) {
    let v_6 = buf1[i_2 * 24u + i_3 * 8u + j_5];
    acc_4 = acc_4 + v_6;
  }
  red[lid] = acc_4;
  workgroupBarrier();
  for (var s_7 = 16u; s_7 > 0u; s_7 = s_7 >> 1u) {
    if (lid < s_7) { red[lid] = red[lid] + red[lid + s_7]; }
    workgroupBarrier();
  }
  let r_8 = red[0u];
  workgroupBarrier();
  if (lid == 0u) { buf2[row_1] = r_8; }
  var acc_9 = 0.0;
  let v_10 = r_8 * 0.125;
  for (var j_11 = lid; j_11 < opaque_0 + 8u; j_11 += 32u) {
    let v_12 = buf1[i_2 * 24u + i_3 * 8u + j_11];
    let v_13 = v_12 - v_10;
    let v_14 = v_13 * v_13;
    acc_9 = acc_9 + v_14;
  }
  red[lid] = acc_9;
  workgroupBarrier();
  for (var s_15 = 16u; s_15 > 0u; s_15 = s_15 >> 1u) {
    if (lid < s_15) { red[lid] = red[lid] + red[lid + s_15]; }
    workgroupBarrier();
  }
  let r_16 = red[0u];
  workgroupBarrier();
  if (lid == 0u) { buf0[row_1] = r_16; }
}
