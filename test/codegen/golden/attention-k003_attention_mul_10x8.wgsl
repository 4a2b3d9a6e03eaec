// k003_attention_mul_10x8: attention kernel, attention wg8 rows1 keys/step4 q5 keys5 d8/8; workgroup 8x1x1, dispatch 1x1x2
//   binding 0 buf0 (read/write): %7 add f32[2,5,8]
//   binding 1 buf1 (read/write): %18 permute f32[2,8,5]
//   binding 2 buf2 (read/write): %17 reshape f32[2,5,8]
//   binding 3 buf3 (read/write): %31 reshape f32[10,8]
@group(0) @binding(0) var<storage, read_write> buf0: array<vec4<f32>>;
@group(0) @binding(1) var<storage, read_write> buf1: array<f32>;
@group(0) @binding(2) var<storage, read_write> buf2: array<vec4<f32>>;
@group(0) @binding(3) var<storage, read_write> buf3: array<vec4<f32>>;

@compute @workgroup_size(8, 1, 1)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_index) lid: u32) {
  let opaque_0 = wid.x >> 31u; // 0 (workgroup ids are < 65536): keeps loop bounds from being constants the driver unrolls
  let qc_1 = min(lid, 4u);
  let vl_2 = buf0[wid.z * 10u + qc_1 * 2u];
  let vl_3 = buf0[wid.z * 10u + qc_1 * 2u + 1u];
  var m_4 = (-3.4028234663852886e+38);
  var l_5 = 0.0;
  var o_6 = vec4<f32>(0.0);
  var o_7 = vec4<f32>(0.0);
  let vl_8 = buf2[wid.z * 10u];
  let vl_9 = buf2[wid.z * 10u + 1u];
  for (var j_10 = 0u; j_10 < opaque_0 + 4u; j_10 += 4u) {
    let v_11 = buf1[wid.z * 40u + j_10];
    let v_12 = buf1[wid.z * 40u + 5u + j_10];
    let v_13 = buf1[wid.z * 40u + 10u + j_10];
    let v_14 = buf1[wid.z * 40u + 15u + j_10];
    let vq_15 = vec4<f32>(v_11, v_12, v_13, v_14);
    let v_16 = buf1[wid.z * 40u + 20u + j_10];
    let v_17 = buf1[wid.z * 40u + 25u + j_10];
    let v_18 = buf1[wid.z * 40u + 30u + j_10];
    let v_19 = buf1[wid.z * 40u + 35u + j_10];
    let vq_20 = vec4<f32>(v_16, v_17, v_18, v_19);
    let v_21 = buf1[wid.z * 40u + (j_10 + 1u)];
    let v_22 = buf1[wid.z * 40u + 5u + (j_10 + 1u)];
    let v_23 = buf1[wid.z * 40u + 10u + (j_10 + 1u)];
    let v_24 = buf1[wid.z * 40u + 15u + (j_10 + 1u)];
    let vq_25 = vec4<f32>(v_21, v_22, v_23, v_24);
    let v_26 = buf1[wid.z * 40u + 20u + (j_10 + 1u)];
    let v_27 = buf1[wid.z * 40u + 25u + (j_10 + 1u)];
    let v_28 = buf1[wid.z * 40u + 30u + (j_10 + 1u)];
    let v_29 = buf1[wid.z * 40u + 35u + (j_10 + 1u)];
    let vq_30 = vec4<f32>(v_26, v_27, v_28, v_29);
    let v_31 = buf1[wid.z * 40u + (j_10 + 2u)];
    let v_32 = buf1[wid.z * 40u + 5u + (j_10 + 2u)];
    let v_33 = buf1[wid.z * 40u + 10u + (j_10 + 2u)];
    let v_34 = buf1[wid.z * 40u + 15u + (j_10 + 2u)];
    let vq_35 = vec4<f32>(v_31, v_32, v_33, v_34);
    let v_36 = buf1[wid.z * 40u + 20u + (j_10 + 2u)];
    let v_37 = buf1[wid.z * 40u + 25u + (j_10 + 2u)];
    let v_38 = buf1[wid.z * 40u + 30u + (j_10 + 2u)];
    let v_39 = buf1[wid.z * 40u + 35u + (j_10 + 2u)];
    let vq_40 = vec4<f32>(v_36, v_37, v_38, v_39);
    let v_41 = buf1[wid.z * 40u + (j_10 + 3u)];
    let v_42 = buf1[wid.z * 40u + 5u + (j_10 + 3u)];
    let v_43 = buf1[wid.z * 40u + 10u + (j_10 + 3u)];
    let v_44 = buf1[wid.z * 40u + 15u + (j_10 + 3u)];
    let vq_45 = vec4<f32>(v_41, v_42, v_43, v_44);
    let v_46 = buf1[wid.z * 40u + 20u + (j_10 + 3u)];
    let v_47 = buf1[wid.z * 40u + 25u + (j_10 + 3u)];
    let v_48 = buf1[wid.z * 40u + 30u + (j_10 + 3u)];
    let v_49 = buf1[wid.z * 40u + 35u + (j_10 + 3u)];
    let vq_50 = vec4<f32>(v_46, v_47, v_48, v_49);
    let vl_51 = buf2[wid.z * 10u + (j_10 + 1u) * 2u];
    let vl_52 = buf2[wid.z * 10u + (j_10 + 1u) * 2u + 1u];
    let vl_53 = buf2[wid.z * 10u + (j_10 + 2u) * 2u];
    let vl_54 = buf2[wid.z * 10u + (j_10 + 2u) * 2u + 1u];
    let vl_55 = buf2[wid.z * 10u + (j_10 + 3u) * 2u];
    let vl_56 = buf2[wid.z * 10u + (j_10 + 3u) * 2u + 1u];
    let qk_57 = dot(vl_2, vq_15) + dot(vl_3, vq_20);
    let v_58 = qk_57 * 0.35355339059327373;
    let qk_59 = dot(vl_2, vq_25) + dot(vl_3, vq_30);
    let v_60 = qk_59 * 0.35355339059327373;
    let qk_61 = dot(vl_2, vq_35) + dot(vl_3, vq_40);
    let v_62 = qk_61 * 0.35355339059327373;
    let qk_63 = dot(vl_2, vq_45) + dot(vl_3, vq_50);
    let v_64 = qk_63 * 0.35355339059327373;
    let mn_65 = max(max(max(max(m_4, v_58), v_60), v_62), v_64);
    let alpha_66 = exp(m_4 - mn_65);
    let pj_67 = exp(v_58 - mn_65);
    let pj_68 = exp(v_60 - mn_65);
    let pj_69 = exp(v_62 - mn_65);
    let pj_70 = exp(v_64 - mn_65);
    l_5 = l_5 * alpha_66 + pj_67 + pj_68 + pj_69 + pj_70;
    o_6 = o_6 * alpha_66 + pj_67 * vl_8 + pj_68 * vl_51 + pj_69 * vl_53 + pj_70 * vl_55;
    o_7 = o_7 * alpha_66 + pj_67 * vl_9 + pj_68 * vl_52 + pj_69 * vl_54 + pj_70 * vl_56;
    m_4 = mn_65;
  }
  for (var j_71 = 4u; j_71 < opaque_0 + 5u; j_71++) {
    let v_72 = buf1[wid.z * 40u + j_71];
    let v_73 = buf1[wid.z * 40u + 5u + j_71];
    let v_74 = buf1[wid.z * 40u + 10u + j_71];
    let v_75 = buf1[wid.z * 40u + 15u + j_71];
    let vq_76 = vec4<f32>(v_72, v_73, v_74, v_75);
    let v_77 = buf1[wid.z * 40u + 20u + j_71];
    let v_78 = buf1[wid.z * 40u + 25u + j_71];
    let v_79 = buf1[wid.z * 40u + 30u + j_71];
    let v_80 = buf1[wid.z * 40u + 35u + j_71];
    let vq_81 = vec4<f32>(v_77, v_78, v_79, v_80);
    let vl_82 = buf2[wid.z * 10u + j_71 * 2u];
    let vl_83 = buf2[wid.z * 10u + j_71 * 2u + 1u];
    let qk_84 = dot(vl_2, vq_76) + dot(vl_3, vq_81);
    let v_85 = qk_84 * 0.35355339059327373;
    let mn_86 = max(m_4, v_85);
    let alpha_87 = exp(m_4 - mn_86);
    let pj_88 = exp(v_85 - mn_86);
    l_5 = l_5 * alpha_87 + pj_88;
    o_6 = o_6 * alpha_87 + pj_88 * vl_82;
    o_7 = o_7 * alpha_87 + pj_88 * vl_83;
    m_4 = mn_86;
  }
  let inv_89 = 1.0 / l_5;
  let ov_90 = o_6 * inv_89;
  let ov_91 = o_7 * inv_89;
  let f_92 = wid.z * 40u + qc_1 * 8u;
  if (lid < 5u) { buf3[f_92 / 4u] = ov_90; }
  let f_93 = wid.z * 40u + qc_1 * 8u + 4u;
  if (lid < 5u) { buf3[f_93 / 4u] = ov_91; }
}
