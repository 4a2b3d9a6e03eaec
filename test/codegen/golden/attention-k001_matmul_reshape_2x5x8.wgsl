// k001_matmul_reshape_2x5x8: matmul kernel, vec4 r8 wg8x1 swap x:k y:k store4; workgroup 8x1x1, dispatch 1x1x1
//   binding 0 buf0v (read): %13 param "v.weight" f32[8,8]
//   binding 1 buf1v (read): %0 input "x" f32[2,5,8]
//   binding 2 buf2v (read/write): %17 reshape f32[2,5,8]
@group(0) @binding(0) var<storage, read> buf0v: array<vec4<f32>>;
@group(0) @binding(1) var<storage, read> buf1v: array<vec4<f32>>;
@group(0) @binding(2) var<storage, read_write> buf2v: array<vec4<f32>>;

@compute @workgroup_size(8, 1, 1)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_id) lid: vec3u) {
  let opaque0 = wid.x >> 31u; // 0 (workgroup ids are < 65536): keeps loop bounds from being constants the driver unrolls
  let c_0 = lid.x * 4u;
  var acc0 = vec4<f32>(0.0);
  var acc1 = vec4<f32>(0.0);
  var acc2 = vec4<f32>(0.0);
  var acc3 = vec4<f32>(0.0);
  var acc4 = vec4<f32>(0.0);
  var acc5 = vec4<f32>(0.0);
  var acc6 = vec4<f32>(0.0);
  var acc7 = vec4<f32>(0.0);
  let cc_9 = min(c_0, 9u);
  let i_11 = cc_9 / 5u;
  let i_12 = cc_9 % 5u;
  let cc_14 = min(c_0 + 1u, 9u);
  let i_16 = cc_14 / 5u;
  let i_17 = cc_14 % 5u;
  let cc_19 = min(c_0 + 2u, 9u);
  let i_21 = cc_19 / 5u;
  let i_22 = cc_19 % 5u;
  let cc_24 = min(c_0 + 3u, 9u);
  let i_26 = cc_24 / 5u;
  let i_27 = cc_24 % 5u;
  for (var k = 0u; k < 8u + opaque0; k += 4u) {
    let vl_1 = buf0v[k / 4u];
    let vl_2 = buf0v[k / 4u + 2u];
    let vl_3 = buf0v[k / 4u + 4u];
    let vl_4 = buf0v[k / 4u + 6u];
    let vl_5 = buf0v[k / 4u + 8u];
    let vl_6 = buf0v[k / 4u + 10u];
    let vl_7 = buf0v[k / 4u + 12u];
    let vl_8 = buf0v[k / 4u + 14u];
    let vl_13 = buf1v[i_11 * 10u + i_12 * 2u + k / 4u];
    let vl_18 = buf1v[i_16 * 10u + i_17 * 2u + k / 4u];
    let vl_23 = buf1v[i_21 * 10u + i_22 * 2u + k / 4u];
    let vl_28 = buf1v[i_26 * 10u + i_27 * 2u + k / 4u];
    let yt_29 = vec4<f32>(vl_13.x, vl_18.x, vl_23.x, vl_28.x);
    let yt_30 = vec4<f32>(vl_13.y, vl_18.y, vl_23.y, vl_28.y);
    let yt_31 = vec4<f32>(vl_13.z, vl_18.z, vl_23.z, vl_28.z);
    let yt_32 = vec4<f32>(vl_13.w, vl_18.w, vl_23.w, vl_28.w);
    acc0 = acc0 + vl_1.x * yt_29 + vl_1.y * yt_30 + vl_1.z * yt_31 + vl_1.w * yt_32;
    acc1 = acc1 + vl_2.x * yt_29 + vl_2.y * yt_30 + vl_2.z * yt_31 + vl_2.w * yt_32;
    acc2 = acc2 + vl_3.x * yt_29 + vl_3.y * yt_30 + vl_3.z * yt_31 + vl_3.w * yt_32;
    acc3 = acc3 + vl_4.x * yt_29 + vl_4.y * yt_30 + vl_4.z * yt_31 + vl_4.w * yt_32;
    acc4 = acc4 + vl_5.x * yt_29 + vl_5.y * yt_30 + vl_5.z * yt_31 + vl_5.w * yt_32;
    acc5 = acc5 + vl_6.x * yt_29 + vl_6.y * yt_30 + vl_6.z * yt_31 + vl_6.w * yt_32;
    acc6 = acc6 + vl_7.x * yt_29 + vl_7.y * yt_30 + vl_7.z * yt_31 + vl_7.w * yt_32;
    acc7 = acc7 + vl_8.x * yt_29 + vl_8.y * yt_30 + vl_8.z * yt_31 + vl_8.w * yt_32;
  }
  var accs = array<vec4<f32>, 8>(acc0, acc1, acc2, acc3, acc4, acc5, acc6, acc7);
  for (var i = 0u; i < 4u + opaque0; i++) {
    let gm_34 = c_0 + i;
    let gm_36 = min(gm_34, 9u);
    for (var q = 0u; q < 2u + opaque0; q++) {
      let cv_33 = vec4<f32>(accs[4u * q + 0u][i], accs[4u * q + 1u][i], accs[4u * q + 2u][i], accs[4u * q + 3u][i]);
      let gn_35 = q * 4u;
      let f_37 = gm_36 * 8u + gn_35;
      if (gm_34 < 10u) { buf2v[f_37 / 4u] = cv_33; }
    }
  }
}
