// k001_matmul_reshape_12: matmul kernel, vec4 r4 wg8x1 x:k y:k store4; workgroup 8x1x1, dispatch 1x1x1
//   binding 0 buf0 (read): %2 param "ln.bias" f32[8]
//   binding 1 buf1 (read): %15 param "fc1.weight" f32[12,8]
//   binding 2 buf2 (read/write): %22 reshape f32[12]
@group(0) @binding(0) var<storage, read> buf0: array<vec4<f32>>;
@group(0) @binding(1) var<storage, read> buf1: array<vec4<f32>>;
@group(0) @binding(2) var<storage, read_write> buf2: array<vec4<f32>>;

@compute @workgroup_size(8, 1, 1)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_id) lid3: vec3u) {
  let opaque_0 = wid.x >> 31u; // 0 (workgroup ids are < 65536): keeps loop bounds from being constants the driver unrolls
  let n_1 = arrayLength(&buf2) * 4u / 12u;
  let tiles_2 = (n_1 + 3u) / 4u;
  let tile_3 = wid.x + wid.y * nwg.x;
  if (tile_3 >= tiles_2) { return; }
  let c_4 = lid3.x * 4u;
  let cb_5 = min(c_4, 8u);
  var acc_6 = vec4<f32>(0.0);
  var acc_7 = vec4<f32>(0.0);
  var acc_8 = vec4<f32>(0.0);
  var acc_9 = vec4<f32>(0.0);
  let cc_10 = min(c_4, 11u);
  let cc_11 = min(c_4 + 1u, 11u);
  let cc_12 = min(c_4 + 2u, 11u);
  let cc_13 = min(c_4 + 3u, 11u);
  for (var k_14 = 0u; k_14 < opaque_0 + 8u; k_14 += 4u) {
    let vl_15 = buf0[k_14 / 4u];
    let vl_16 = buf1[cc_10 * 2u + k_14 / 4u];
    let vl_17 = buf1[cc_11 * 2u + k_14 / 4u];
    let vl_18 = buf1[cc_12 * 2u + k_14 / 4u];
    let vl_19 = buf1[cc_13 * 2u + k_14 / 4u];
    let yt_20 = vec4<f32>(vl_16.x, vl_17.x, vl_18.x, vl_19.x);
    let yt_21 = vec4<f32>(vl_16.y, vl_17.y, vl_18.y, vl_19.y);
    let yt_22 = vec4<f32>(vl_16.z, vl_17.z, vl_18.z, vl_19.z);
    let yt_23 = vec4<f32>(vl_16.w, vl_17.w, vl_18.w, vl_19.w);
    acc_6 = acc_6 + vl_15.x * yt_20 + vl_15.y * yt_21 + vl_15.z * yt_22 + vl_15.w * yt_23;
    acc_7 = acc_7 + vl_15.x * yt_20 + vl_15.y * yt_21 + vl_15.z * yt_22 + vl_15.w * yt_23;
    acc_8 = acc_8 + vl_15.x * yt_20 + vl_15.y * yt_21 + vl_15.z * yt_22 + vl_15.w * yt_23;
    acc_9 = acc_9 + vl_15.x * yt_20 + vl_15.y * yt_21 + vl_15.z * yt_22 + vl_15.w * yt_23;
  }
  var accs_24 = array<vec4<f32>, 4>(acc_6, acc_7, acc_8, acc_9);
  for (var r_25 = 0u; r_25 < opaque_0 + 4u; r_25++) {
    if (r_25 < n_1 && c_4 < 12u) { buf2[cb_5 / 4u] = accs_24[r_25]; }
  }
}
