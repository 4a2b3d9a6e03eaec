// k004_matmul_add_2x5x8: matmul kernel, vec4 r8 wg8x1 swap x:k y:k store4; workgroup 8x1x1, dispatch 1x1x1
//   binding 0 buf0v (read): %29 param "proj.weight" f32[8,8]
//   binding 1 buf1v (read/write): %31 reshape f32[10,8]
//   binding 2 buf2v (read): %30 param "proj.bias" f32[8]
//   binding 3 buf3v (read/write): %35 add -> output "y" f32[2,5,8]
@group(0) @binding(0) var<storage, read> buf0v: array<vec4<f32>>;
@group(0) @binding(1) var<storage, read_write> buf1v: array<vec4<f32>>;
@group(0) @binding(2) var<storage, read> buf2v: array<vec4<f32>>;
@group(0) @binding(3) var<storage, read_write> buf3v: array<vec4<f32>>;

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
  let cc_11 = min(c_0 + 1u, 9u);
  let cc_13 = min(c_0 + 2u, 9u);
  let cc_15 = min(c_0 + 3u, 9u);
  for (var k = 0u; k < 8u + opaque0; k += 4u) {
    let vl_1 = buf0v[k / 4u];
    let vl_2 = buf0v[k / 4u + 2u];
    let vl_3 = buf0v[k / 4u + 4u];
    let vl_4 = buf0v[k / 4u + 6u];
    let vl_5 = buf0v[k / 4u + 8u];
    let vl_6 = buf0v[k / 4u + 10u];
    let vl_7 = buf0v[k / 4u + 12u];
    let vl_8 = buf0v[k / 4u + 14u];
    let vl_10 = buf1v[cc_9 * 2u + k / 4u];
    let vl_12 = buf1v[cc_11 * 2u + k / 4u];
    let vl_14 = buf1v[cc_13 * 2u + k / 4u];
    let vl_16 = buf1v[cc_15 * 2u + k / 4u];
    let yt_17 = vec4<f32>(vl_10.x, vl_12.x, vl_14.x, vl_16.x);
    let yt_18 = vec4<f32>(vl_10.y, vl_12.y, vl_14.y, vl_16.y);
    let yt_19 = vec4<f32>(vl_10.z, vl_12.z, vl_14.z, vl_16.z);
    let yt_20 = vec4<f32>(vl_10.w, vl_12.w, vl_14.w, vl_16.w);
    acc0 = acc0 + vl_1.x * yt_17 + vl_1.y * yt_18 + vl_1.z * yt_19 + vl_1.w * yt_20;
    acc1 = acc1 + vl_2.x * yt_17 + vl_2.y * yt_18 + vl_2.z * yt_19 + vl_2.w * yt_20;
    acc2 = acc2 + vl_3.x * yt_17 + vl_3.y * yt_18 + vl_3.z * yt_19 + vl_3.w * yt_20;
    acc3 = acc3 + vl_4.x * yt_17 + vl_4.y * yt_18 + vl_4.z * yt_19 + vl_4.w * yt_20;
    acc4 = acc4 + vl_5.x * yt_17 + vl_5.y * yt_18 + vl_5.z * yt_19 + vl_5.w * yt_20;
    acc5 = acc5 + vl_6.x * yt_17 + vl_6.y * yt_18 + vl_6.z * yt_19 + vl_6.w * yt_20;
    acc6 = acc6 + vl_7.x * yt_17 + vl_7.y * yt_18 + vl_7.z * yt_19 + vl_7.w * yt_20;
    acc7 = acc7 + vl_8.x * yt_17 + vl_8.y * yt_18 + vl_8.z * yt_19 + vl_8.w * yt_20;
  }
  var accs = array<vec4<f32>, 8>(acc0, acc1, acc2, acc3, acc4, acc5, acc6, acc7);
  for (var i = 0u; i < 4u + opaque0; i++) {
    let gm_22 = c_0 + i;
    let gm_24 = min(gm_22, 9u);
    for (var q = 0u; q < 2u + opaque0; q++) {
      let cv_21 = vec4<f32>(accs[4u * q + 0u][i], accs[4u * q + 1u][i], accs[4u * q + 2u][i], accs[4u * q + 3u][i]);
      let gn_23 = q * 4u;
      let f_25 = gm_24 * 8u + gn_23;
      let vl_28 = buf2v[gn_23 / 4u];
      let vv_29 = cv_21 + vl_28;
      if (gm_22 < 10u) { buf3v[f_25 / 4u] = vv_29; }
    }
  }
}
