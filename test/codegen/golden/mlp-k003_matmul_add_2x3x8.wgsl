// k003_matmul_add_2x3x8: matmul kernel, vec4 r8 wg8x1 x:k y:k store4; workgroup 8x1x1, dispatch 1x1x1
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

@compute @workgroup_size(8, 1, 1)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_id) lid3: vec3u) {
  let opaque_0 = wid.x >> 31u; // 0 (workgroup ids are < 65536): keeps loop bounds from being constants the driver unrolls
  let n_1 = arrayLength(&buf4) * 4u / 8u;
  let tiles_2 = (n_1 + 7u) / 8u;
  let tile_3 = wid.x + wid.y * nwg.x;
  if (tile_3 >= tiles_2) { return; }
  let c_4 = lid3.x * 4u;
  let cb_5 = min(c_4, 4u);
  var acc_6 = vec4<f32>(0.0);
  var acc_7 = vec4<f32>(0.0);
  var acc_8 = vec4<f32>(0.0);
  var acc_9 = vec4<f32>(0.0);
  var acc_10 = vec4<f32>(0.0);
  var acc_11 = vec4<f32>(0.0);
  var acc_12 = vec4<f32>(0.0);
  var acc_13 = vec4<f32>(0.0);
  let xr_14 = min(n_1 - 1u, 1u);
  let xr_15 = min(n_1 - 1u, 2u);
  let xr_16 = min(n_1 - 1u, 3u);
  let xr_17 = min(n_1 - 1u, 4u);
  let xr_18 = min(n_1 - 1u, 5u);
  let xr_19 = min(n_1 - 1u, 6u);
  let xr_20 = min(n_1 - 1u, 7u);
  let cc_21 = min(c_4, 7u);
  let cc_22 = min(c_4 + 1u, 7u);
  let cc_23 = min(c_4 + 2u, 7u);
  let cc_24 = min(c_4 + 3u, 7u);
  for (var k_25 = 0u; k_25 < opaque_0 + 12u; k_25 += 4u) {
    let vl_26 = buf0[k_25 / 4u];
    let vl_27 = buf0[xr_14 * 3u + k_25 / 4u];
    let vl_28 = buf0[xr_15 * 3u + k_25 / 4u];
    let vl_29 = buf0[xr_16 * 3u + k_25 / 4u];
    let vl_30 = buf0[xr_17 * 3u + k_25 / 4u];
    let vl_31 = buf0[xr_18 * 3u + k_25 / 4u];
    let vl_32 = buf0[xr_19 * 3u + k_25 / 4u];
    let vl_33 = buf0[xr_20 * 3u + k_25 / 4u];
    let vl_34 = buf1[cc_21 * 3u + k_25 / 4u];
    let vl_35 = buf1[cc_22 * 3u + k_25 / 4u];
    let vl_36 = buf1[cc_23 * 3u + k_25 / 4u];
    let vl_37 = buf1[cc_24 * 3u + k_25 / 4u];
    let yt_38 = vec4<f32>(vl_34.x, vl_35.x, vl_36.x, vl_37.x);
    let yt_39 = vec4<f32>(vl_34.y, vl_35.y, vl_36.y, vl_37.y);
    let yt_40 = vec4<f32>(vl_34.z, vl_35.z, vl_36.z, vl_37.z);
    let yt_41 = vec4<f32>(vl_34.w, vl_35.w, vl_36.w, vl_37.w);
    acc_6 = acc_6 + vl_26.x * yt_38 + vl_26.y * yt_39 + vl_26.z * yt_40 + vl_26.w * yt_41;
    acc_7 = acc_7 + vl_27.x * yt_38 + vl_27.y * yt_39 + vl_27.z * yt_40 + vl_27.w * yt_41;
    acc_8 = acc_8 + vl_28.x * yt_38 + vl_28.y * yt_39 + vl_28.z * yt_40 + vl_28.w * yt_41;
    acc_9 = acc_9 + vl_29.x * yt_38 + vl_29.y * yt_39 + vl_29.z * yt_40 + vl_29.w * yt_41;
    acc_10 = acc_10 + vl_30.x * yt_38 + vl_30.y * yt_39 + vl_30.z * yt_40 + vl_30.w * yt_41;
    acc_11 = acc_11 + vl_31.x * yt_38 + vl_31.y * yt_39 + vl_31.z * yt_40 + vl_31.w * yt_41;
    acc_12 = acc_12 + vl_32.x * yt_38 + vl_32.y * yt_39 + vl_32.z * yt_40 + vl_32.w * yt_41;
    acc_13 = acc_13 + vl_33.x * yt_38 + vl_33.y * yt_39 + vl_33.z * yt_40 + vl_33.w * yt_41;
  }
  var accs_42 = array<vec4<f32>, 8>(acc_6, acc_7, acc_8, acc_9, acc_10, acc_11, acc_12, acc_13);
  let vl_43 = buf3[cb_5 / 4u];
  for (var r_44 = 0u; r_44 < opaque_0 + 8u; r_44++) {
    let gm_45 = min(r_44, n_1 - 1u);
    let f_46 = gm_45 * 8u + cb_5;
    let vl_47 = buf2[gm_45 * 2u + cb_5 / 4u];
    let vv_48 = accs_42[r_44] + vl_43;
    let vv_49 = vl_47 + vv_48;
    if (r_44 < n_1 && c_4 < 8u) { buf4[f_46 / 4u] = vv_49; }
  }
}
