// k003_matmul_add_2x3x8: matmul kernel, vec4 r4 wg8x2 x:k y:k store4; workgroup 8x2x1, dispatch 1x1x1
//   binding 0 buf0 (read/write): %38 reshape f32[6,12]
//   binding 1 buf1 (read): %36 param "fc2.weight" f32[8,12]
//   binding 2 buf2 (read): %0 input "x" f32[2,3,8]
//   binding 3 buf3 (read): %37 param "fc2.bias" f32[8]
//   binding 4 buf4 (read/write): %43 add -> output "y" f32[2,3,8]
@group(0) @binding(0) var<storage, read_write> buf0: array<vec4<f32>>;
@group(0) @binding(1) var<storage, read> buf1: array<vec4<f32>>;
@group(0) @binding(2) var<storage, read> buf2: array<vec4<f32>>;
@group(0) @binding(3) var<storage, read> buf3: array<vec4<f32>>;
@group(0) @binding(4) var<storage, read_write> buf4: array<vec4<f32>>;

@compute @workgroup_size(8, 2, 1)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_id) lid3: vec3u) {
  let opaque_0 = wid.x >> 31u; // 0 (workgroup ids are < 65536): keeps loop bounds from being constants the driver unrolls
  let n_1 = arrayLength(&buf4) * 4u / 8u;
  let tiles_2 = (n_1 + 7u) / 8u;
  let tile_3 = wid.x + wid.y * nwg.x;
  if (tile_3 >= tiles_2) { return; }
  let c_4 = lid3.x * 4u;
  let r_5 = lid3.y * 4u;
  let cb_6 = min(c_4, 4u);
  var acc_7 = vec4<f32>(0.0);
  var acc_8 = vec4<f32>(0.0);
  var acc_9 = vec4<f32>(0.0);
  var acc_10 = vec4<f32>(0.0);
  let xr_11 = min(r_5, n_1 - 1u);
  let xr_12 = min(r_5 + 1u, n_1 - 1u);
  let xr_13 = min(r_5 + 2u, n_1 - 1u);
  let xr_14 = min(r_5 + 3u, n_1 - 1u);
  let cc_15 = min(c_4, 7u);
  let cc_16 = min(c_4 + 1u, 7u);
  let cc_17 = min(c_4 + 2u, 7u);
  let cc_18 = min(c_4 + 3u, 7u);
  for (var k_19 = 0u; k_19 < opaque_0 + 12u; k_19 += 4u) {
    let vl_20 = buf0[xr_11 * 3u + k_19 / 4u];
    let vl_21 = buf0[xr_12 * 3u + k_19 / 4u];
    let vl_22 = buf0[xr_13 * 3u + k_19 / 4u];
    let vl_23 = buf0[xr_14 * 3u + k_19 / 4u];
    let vl_24 = buf1[cc_15 * 3u + k_19 / 4u];
    let vl_25 = buf1[cc_16 * 3u + k_19 / 4u];
    let vl_26 = buf1[cc_17 * 3u + k_19 / 4u];
    let vl_27 = buf1[cc_18 * 3u + k_19 / 4u];
    let yt_28 = vec4<f32>(vl_24.x, vl_25.x, vl_26.x, vl_27.x);
    let yt_29 = vec4<f32>(vl_24.y, vl_25.y, vl_26.y, vl_27.y);
    let yt_30 = vec4<f32>(vl_24.z, vl_25.z, vl_26.z, vl_27.z);
    let yt_31 = vec4<f32>(vl_24.w, vl_25.w, vl_26.w, vl_27.w);
    acc_7 = acc_7 + vl_20.x * yt_28 + vl_20.y * yt_29 + vl_20.z * yt_30 + vl_20.w * yt_31;
    acc_8 = acc_8 + vl_21.x * yt_28 + vl_21.y * yt_29 + vl_21.z * yt_30 + vl_21.w * yt_31;
    acc_9 = acc_9 + vl_22.x * yt_28 + vl_22.y * yt_29 + vl_22.z * yt_30 + vl_22.w * yt_31;
    acc_10 = acc_10 + vl_23.x * yt_28 + vl_23.y * yt_29 + vl_23.z * yt_30 + vl_23.w * yt_31;
  }
  var accs_32 = array<vec4<f32>, 4>(acc_7, acc_8, acc_9, acc_10);
  let vl_33 = buf3[cb_6 / 4u];
  for (var r_34 = 0u; r_34 < opaque_0 + 4u; r_34++) {
    let gm_35 = r_5 + r_34;
    let gm_36 = min(gm_35, n_1 - 1u);
    let f_37 = gm_36 * 8u + cb_6;
    let vl_38 = buf2[gm_36 * 2u + cb_6 / 4u];
    let vv_39 = accs_32[r_34] + vl_33;
    let vv_40 = vl_38 + vv_39;
    if (gm_35 < n_1 && c_4 < 8u) { buf4[f_37 / 4u] = vv_40; }
  }
}
