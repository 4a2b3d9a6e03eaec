// k003_attention_mul_10x8: attention kernel, attention wg8 rows1 q5 keys5 d8/8; workgroup 8x1x1, dispatch 1x1x2
//   binding 0 buf0v (read/write): %7 add f32[2,5,8]
//   binding 1 buf1 (read/write): %18 permute f32[2,8,5]
//   binding 2 buf2v (read/write): %17 reshape f32[2,5,8]
//   binding 3 buf3v (read/write): %31 reshape f32[10,8]
@group(0) @binding(0) var<storage, read_write> buf0v: array<vec4<f32>>;
@group(0) @binding(1) var<storage, read_write> buf1: array<f32>;
@group(0) @binding(2) var<storage, read_write> buf2v: array<vec4<f32>>;
@group(0) @binding(3) var<storage, read_write> buf3v: array<vec4<f32>>;

@compute @workgroup_size(8, 1, 1)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let opaque0 = wid.x >> 31u; // 0 (workgroup ids are < 65536): keeps loop bounds from being constants the driver unrolls
  let qc_0 = min(lid, 4u);
  let vl_1 = buf0v[wid.z * 10u + qc_0 * 2u];
  let vl_2 = buf0v[wid.z * 10u + qc_0 * 2u + 1u];
  var m_3 = (-3.4028234663852886e+38);
  var l_4 = 0.0;
  var o_5 = vec4<f32>(0.0);
  var o_6 = vec4<f32>(0.0);
  for (var j = 0u; j < 5u + opaque0; j++) {
    let v_7 = buf1[wid.z * 40u + j];
    let v_8 = buf1[wid.z * 40u + 5u + j];
    let v_9 = buf1[wid.z * 40u + 10u + j];
    let v_10 = buf1[wid.z * 40u + 15u + j];
    let vq_11 = vec4<f32>(v_7, v_8, v_9, v_10);
    let v_12 = buf1[wid.z * 40u + 20u + j];
    let v_13 = buf1[wid.z * 40u + 25u + j];
    let v_14 = buf1[wid.z * 40u + 30u + j];
    let v_15 = buf1[wid.z * 40u + 35u + j];
    let vq_16 = vec4<f32>(v_12, v_13, v_14, v_15);
    let vl_17 = buf2v[wid.z * 10u + j * 2u];
    let vl_18 = buf2v[wid.z * 10u + j * 2u + 1u];
    let qk_19 = dot(vl_1, vq_11) + dot(vl_2, vq_16);
    let v_20 = qk_19 * 0.35355339059327373;
    let mn_21 = max(m_3, v_20);
    let alpha_22 = exp(m_3 - mn_21);
    let pj_23 = exp(v_20 - mn_21);
    l_4 = l_4 * alpha_22 + pj_23;
    o_5 = o_5 * alpha_22 + pj_23 * vl_17;
    o_6 = o_6 * alpha_22 + pj_23 * vl_18;
    m_3 = mn_21;
  }
  let inv_24 = 1.0 / l_4;
  let ov_25 = o_5 * inv_24;
  let f_26 = wid.z * 40u + qc_0 * 8u;
  if (lid < 5u) { buf3v[f_26 / 4u] = ov_25; }
  let ov_28 = o_6 * inv_24;
  let f_29 = wid.z * 40u + qc_0 * 8u + 4u;
  if (lid < 5u) { buf3v[f_29 / 4u] = ov_28; }
}
