// k003_attention_mul_10x8: attention kernel, attention wg8 rows1 keys/step4 q5 keys5 d8/8; workgroup 8x1x1, dispatch 1x1x2
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
  for (var j = 0u; j < 4u + opaque0; j += 4u) {
    let v_10 = buf1[wid.z * 40u + j];
    let v_11 = buf1[wid.z * 40u + 5u + j];
    let v_12 = buf1[wid.z * 40u + 10u + j];
    let v_13 = buf1[wid.z * 40u + 15u + j];
    let vq_14 = vec4<f32>(v_10, v_11, v_12, v_13);
    let v_15 = buf1[wid.z * 40u + 20u + j];
    let v_16 = buf1[wid.z * 40u + 25u + j];
    let v_17 = buf1[wid.z * 40u + 30u + j];
    let v_18 = buf1[wid.z * 40u + 35u + j];
    let vq_19 = vec4<f32>(v_15, v_16, v_17, v_18);
    let v_20 = buf1[wid.z * 40u + j + 1u];
    let v_21 = buf1[wid.z * 40u + 5u + j + 1u];
    let v_22 = buf1[wid.z * 40u + 10u + j + 1u];
    let v_23 = buf1[wid.z * 40u + 15u + j + 1u];
    let vq_24 = vec4<f32>(v_20, v_21, v_22, v_23);
    let v_25 = buf1[wid.z * 40u + 20u + j + 1u];
    let v_26 = buf1[wid.z * 40u + 25u + j + 1u];
    let v_27 = buf1[wid.z * 40u + 30u + j + 1u];
    let v_28 = buf1[wid.z * 40u + 35u + j + 1u];
    let vq_29 = vec4<f32>(v_25, v_26, v_27, v_28);
    let v_30 = buf1[wid.z * 40u + j + 2u];
    let v_31 = buf1[wid.z * 40u + 5u + j + 2u];
    let v_32 = buf1[wid.z * 40u + 10u + j + 2u];
    let v_33 = buf1[wid.z * 40u + 15u + j + 2u];
    let vq_34 = vec4<f32>(v_30, v_31, v_32, v_33);
    let v_35 = buf1[wid.z * 40u + 20u + j + 2u];
    let v_36 = buf1[wid.z * 40u + 25u + j + 2u];
    let v_37 = buf1[wid.z * 40u + 30u + j + 2u];
    let v_38 = buf1[wid.z * 40u + 35u + j + 2u];
    let vq_39 = vec4<f32>(v_35, v_36, v_37, v_38);
    let v_40 = buf1[wid.z * 40u + j + 3u];
    let v_41 = buf1[wid.z * 40u + 5u + j + 3u];
    let v_42 = buf1[wid.z * 40u + 10u + j + 3u];
    let v_43 = buf1[wid.z * 40u + 15u + j + 3u];
    let vq_44 = vec4<f32>(v_40, v_41, v_42, v_43);
    let v_45 = buf1[wid.z * 40u + 20u + j + 3u];
    let v_46 = buf1[wid.z * 40u + 25u + j + 3u];
    let v_47 = buf1[wid.z * 40u + 30u + j + 3u];
    let v_48 = buf1[wid.z * 40u + 35u + j + 3u];
    let vq_49 = vec4<f32>(v_45, v_46, v_47, v_48);
    let vl_50 = buf2v[wid.z * 10u + j * 2u];
    let vl_51 = buf2v[wid.z * 10u + j * 2u + 1u];
    let vl_52 = buf2v[wid.z * 10u + (j + 1u) * 2u];
    let vl_53 = buf2v[wid.z * 10u + (j + 1u) * 2u + 1u];
    let vl_54 = buf2v[wid.z * 10u + (j + 2u) * 2u];
    let vl_55 = buf2v[wid.z * 10u + (j + 2u) * 2u + 1u];
    let vl_56 = buf2v[wid.z * 10u + (j + 3u) * 2u];
    let vl_57 = buf2v[wid.z * 10u + (j + 3u) * 2u + 1u];
    let qk_58 = dot(vl_1, vq_14) + dot(vl_2, vq_19);
    let v_59 = qk_58 * 0.35355339059327373;
    let qk_60 = dot(vl_1, vq_24) + dot(vl_2, vq_29);
    let v_61 = qk_60 * 0.35355339059327373;
    let qk_62 = dot(vl_1, vq_34) + dot(vl_2, vq_39);
    let v_63 = qk_62 * 0.35355339059327373;
    let qk_64 = dot(vl_1, vq_44) + dot(vl_2, vq_49);
    let v_65 = qk_64 * 0.35355339059327373;
    let mn_66 = max(max(max(max(m_3, v_59), v_61), v_63), v_65);
    let alpha_67 = exp(m_3 - mn_66);
    let pj_68 = exp(v_59 - mn_66);
    let pj_69 = exp(v_61 - mn_66);
    let pj_70 = exp(v_63 - mn_66);
    let pj_71 = exp(v_65 - mn_66);
    l_4 = l_4 * alpha_67 + pj_68 + pj_69 + pj_70 + pj_71;
    o_5 = o_5 * alpha_67 + pj_68 * vl_50 + pj_69 * vl_52 + pj_70 * vl_54 + pj_71 * vl_56;
    o_6 = o_6 * alpha_67 + pj_68 * vl_51 + pj_69 * vl_53 + pj_70 * vl_55 + pj_71 * vl_57;
    m_3 = mn_66;
  }
  for (var j = 4u; j < 5u + opaque0; j++) {
    let v_72 = buf1[wid.z * 40u + j];
    let v_73 = buf1[wid.z * 40u + 5u + j];
    let v_74 = buf1[wid.z * 40u + 10u + j];
    let v_75 = buf1[wid.z * 40u + 15u + j];
    let vq_76 = vec4<f32>(v_72, v_73, v_74, v_75);
    let v_77 = buf1[wid.z * 40u + 20u + j];
    let v_78 = buf1[wid.z * 40u + 25u + j];
    let v_79 = buf1[wid.z * 40u + 30u + j];
    let v_80 = buf1[wid.z * 40u + 35u + j];
    let vq_81 = vec4<f32>(v_77, v_78, v_79, v_80);
    let vl_82 = buf2v[wid.z * 10u + j * 2u];
    let vl_83 = buf2v[wid.z * 10u + j * 2u + 1u];
    let qk_84 = dot(vl_1, vq_76) + dot(vl_2, vq_81);
    let v_85 = qk_84 * 0.35355339059327373;
    let mn_86 = max(m_3, v_85);
    let alpha_87 = exp(m_3 - mn_86);
    let pj_88 = exp(v_85 - mn_86);
    l_4 = l_4 * alpha_87 + pj_88;
    o_5 = o_5 * alpha_87 + pj_88 * vl_82;
    o_6 = o_6 * alpha_87 + pj_88 * vl_83;
    m_3 = mn_86;
  }
  let inv_89 = 1.0 / l_4;
  let ov_90 = o_5 * inv_89;
  let ov_91 = o_6 * inv_89;
  let f_92 = wid.z * 40u + qc_0 * 8u;
  if (lid < 5u) { buf3v[f_92 / 4u] = ov_90; }
  let f_94 = wid.z * 40u + qc_0 * 8u + 4u;
  if (lid < 5u) { buf3v[f_94 / 4u] = ov_91; }
}
