// k003_matmul_add_2x3x8: matmul kernel, vec4 r8 wg8x1 x:k y:k store4; workgroup 8x1x1, dispatch 1x1x1
//   binding 0 buf0v (read/write): %34 reshape f32[6,12]
//   binding 1 buf1v (read): %32 param "fc2.weight" f32[8,12]
//   binding 2 buf2v (read): %0 input "x" f32[2,3,8]
//   binding 3 buf3v (read): %33 param "fc2.bias" f32[8]
//   binding 4 buf4v (read/write): %39 add -> output "y" f32[2,3,8]
@group(0) @binding(0) var<storage, read_write> buf0v: array<vec4<f32>>;
@group(0) @binding(1) var<storage, read> buf1v: array<vec4<f32>>;
@group(0) @binding(2) var<storage, read> buf2v: array<vec4<f32>>;
@group(0) @binding(3) var<storage, read> buf3v: array<vec4<f32>>;
@group(0) @binding(4) var<storage, read_write> buf4v: array<vec4<f32>>;

@compute @workgroup_size(8, 1, 1)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_id) lid: vec3u) {
  let opaque0 = wid.x >> 31u; // 0 (workgroup ids are < 65536): keeps loop bounds from being constants the driver unrolls
  let c_0 = lid.x * 4u;
  let cb_1 = min(c_0, 4u);
  var acc0 = vec4<f32>(0.0);
  var acc1 = vec4<f32>(0.0);
  var acc2 = vec4<f32>(0.0);
  var acc3 = vec4<f32>(0.0);
  var acc4 = vec4<f32>(0.0);
  var acc5 = vec4<f32>(0.0);
  var acc6 = vec4<f32>(0.0);
  var acc7 = vec4<f32>(0.0);
  let cc_8 = min(c_0, 7u);
  let cc_10 = min(c_0 + 1u, 7u);
  let cc_12 = min(c_0 + 2u, 7u);
  let cc_14 = min(c_0 + 3u, 7u);
  for (var k = 0u; k < 12u + opaque0; k += 4u) {
    let vl_2 = buf0v[k / 4u];
    let vl_3 = buf0v[k / 4u + 3u];
    let vl_4 = buf0v[k / 4u + 6u];
    let vl_5 = buf0v[k / 4u + 9u];
    let vl_6 = buf0v[k / 4u + 12u];
    let vl_7 = buf0v[k / 4u + 15u];
    let vl_9 = buf1v[cc_8 * 3u + k / 4u];
    let vl_11 = buf1v[cc_10 * 3u + k / 4u];
    let vl_13 = buf1v[cc_12 * 3u + k / 4u];
    let vl_15 = buf1v[cc_14 * 3u + k / 4u];
    let yt_16 = vec4<f32>(vl_9.x, vl_11.x, vl_13.x, vl_15.x);
    let yt_17 = vec4<f32>(vl_9.y, vl_11.y, vl_13.y, vl_15.y);
    let yt_18 = vec4<f32>(vl_9.z, vl_11.z, vl_13.z, vl_15.z);
    let yt_19 = vec4<f32>(vl_9.w, vl_11.w, vl_13.w, vl_15.w);
    acc0 = acc0 + vl_2.x * yt_16 + vl_2.y * yt_17 + vl_2.z * yt_18 + vl_2.w * yt_19;
    acc1 = acc1 + vl_3.x * yt_16 + vl_3.y * yt_17 + vl_3.z * yt_18 + vl_3.w * yt_19;
    acc2 = acc2 + vl_4.x * yt_16 + vl_4.y * yt_17 + vl_4.z * yt_18 + vl_4.w * yt_19;
    acc3 = acc3 + vl_5.x * yt_16 + vl_5.y * yt_17 + vl_5.z * yt_18 + vl_5.w * yt_19;
    acc4 = acc4 + vl_6.x * yt_16 + vl_6.y * yt_17 + vl_6.z * yt_18 + vl_6.w * yt_19;
    acc5 = acc5 + vl_7.x * yt_16 + vl_7.y * yt_17 + vl_7.z * yt_18 + vl_7.w * yt_19;
    acc6 = acc6 + vl_7.x * yt_16 + vl_7.y * yt_17 + vl_7.z * yt_18 + vl_7.w * yt_19;
    acc7 = acc7 + vl_7.x * yt_16 + vl_7.y * yt_17 + vl_7.z * yt_18 + vl_7.w * yt_19;
  }
  var accs = array<vec4<f32>, 8>(acc0, acc1, acc2, acc3, acc4, acc5, acc6, acc7);
  let vl_25 = buf3v[cb_1 / 4u];
  for (var r = 0u; r < 8u + opaque0; r++) {
    let gm_20 = min(r, 5u);
    let f_21 = gm_20 * 8u + cb_1;
    let i_22 = gm_20 / 3u;
    let i_23 = gm_20 % 3u;
    let vl_24 = buf2v[i_22 * 6u + i_23 * 2u + cb_1 / 4u];
    let vv_26 = accs[r] + vl_25;
    let vv_27 = vl_24 + vv_26;
    if (r < 6u && c_0 < 8u) { buf4v[f_21 / 4u] = vv_27; }
  }
}
