// b000_k000_k001_k002: batch kernel, k000_matmul_add_2x5x8 + k001_matmul_reshape_2x5x8 + k002_matmul_permute_2x8x5; workgroup 8x1x1, dispatch 3x1x1
//   binding 0 buf0 (read): %1 param "q.weight" f32[8,8]
//   binding 1 buf1 (read): %0 input "x" f32[2,5,8]
//   binding 2 buf2 (read): %2 param "q.bias" f32[8]
//   binding 3 buf3 (read/write): %7 add f32[2,5,8]
//   binding 4 buf4 (read): %13 param "v.weight" f32[8,8]
//   binding 5 buf5 (read/write): %17 reshape f32[2,5,8]
//   binding 6 buf6 (read): %8 param "k.weight" f32[8,8]
//   binding 7 buf7 (read/write): %18 permute f32[2,8,5]
@group(0) @binding(0) var<storage, read> buf0: array<vec4<f32>>;
@group(0) @binding(1) var<storage, read> buf1: array<vec4<f32>>;
@group(0) @binding(2) var<storage, read> buf2: array<vec4<f32>>;
@group(0) @binding(3) var<storage, read_write> buf3: array<vec4<f32>>;
@group(0) @binding(4) var<storage, read> buf4: array<vec4<f32>>;
@group(0) @binding(5) var<storage, read_write> buf5: array<vec4<f32>>;
@group(0) @binding(6) var<storage, read> buf6: array<vec4<f32>>;
@group(0) @binding(7) var<storage, read_write> buf7: array<f32>;

@compute @workgroup_size(8, 1, 1)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_id) lid3: vec3u) {
  let wg_0 = wid.x;
  if (wg_0 < 1u) {
    let part_1 = wg_0;
    let wx_2 = 0u;
    let wy_3 = 0u;
    let wz_4 = part_1;
    let opaque_5 = wx_2 >> 31u; // 0 (workgroup ids are < 65536): keeps loop bounds from being constants the driver unrolls
    let c_6 = lid3.x * 4u;
    var acc_7 = vec4<f32>(0.0);
    var acc_8 = vec4<f32>(0.0);
    var acc_9 = vec4<f32>(0.0);
    var acc_10 = vec4<f32>(0.0);
    var acc_11 = vec4<f32>(0.0);
    var acc_12 = vec4<f32>(0.0);
    var acc_13 = vec4<f32>(0.0);
    var acc_14 = vec4<f32>(0.0);
    let cc_15 = min(c_6, 9u);
    let i_16 = cc_15 / 5u;
    let i_17 = cc_15 % 5u;
    let cc_18 = min(c_6 + 1u, 9u);
    let i_19 = cc_18 / 5u;
    let i_20 = cc_18 % 5u;
    let cc_21 = min(c_6 + 2u, 9u);
    let i_22 = cc_21 / 5u;
    let i_23 = cc_21 % 5u;
    let cc_24 = min(c_6 + 3u, 9u);
    let i_25 = cc_24 / 5u;
    let i_26 = cc_24 % 5u;
    for (var k_27 = 0u; k_27 < opaque_5 + 8u; k_27 += 4u) {
      let vl_28 = buf0[k_27 / 4u];
      let vl_29 = buf0[k_27 / 4u + 2u];
      let vl_30 = buf0[k_27 / 4u + 4u];
      let vl_31 = buf0[k_27 / 4u + 6u];
      let vl_32 = buf0[k_27 / 4u + 8u];
      let vl_33 = buf0[k_27 / 4u + 10u];
      let vl_34 = buf0[k_27 / 4u + 12u];
      let vl_35 = buf0[k_27 / 4u + 14u];
      let vl_36 = buf1[i_16 * 10u + i_17 * 2u + k_27 / 4u];
      let vl_37 = buf1[i_19 * 10u + i_20 * 2u + k_27 / 4u];
      let vl_38 = buf1[i_22 * 10u + i_23 * 2u + k_27 / 4u];
      let vl_39 = buf1[i_25 * 10u + i_26 * 2u + k_27 / 4u];
      let yt_40 = vec4<f32>(vl_36.x, vl_37.x, vl_38.x, vl_39.x);
      let yt_41 = vec4<f32>(vl_36.y, vl_37.y, vl_38.y, vl_39.y);
      let yt_42 = vec4<f32>(vl_36.z, vl_37.z, vl_38.z, vl_39.z);
      let yt_43 = vec4<f32>(vl_36.w, vl_37.w, vl_38.w, vl_39.w);
      acc_7 = acc_7 + vl_28.x * yt_40 + vl_28.y * yt_41 + vl_28.z * yt_42 + vl_28.w * yt_43;
      acc_8 = acc_8 + vl_29.x * yt_40 + vl_29.y * yt_41 + vl_29.z * yt_42 + vl_29.w * yt_43;
      acc_9 = acc_9 + vl_30.x * yt_40 + vl_30.y * yt_41 + vl_30.z * yt_42 + vl_30.w * yt_43;
      acc_10 = acc_10 + vl_31.x * yt_40 + vl_31.y * yt_41 + vl_31.z * yt_42 + vl_31.w * yt_43;
      acc_11 = acc_11 + vl_32.x * yt_40 + vl_32.y * yt_41 + vl_32.z * yt_42 + vl_32.w * yt_43;
      acc_12 = acc_12 + vl_33.x * yt_40 + vl_33.y * yt_41 + vl_33.z * yt_42 + vl_33.w * yt_43;
      acc_13 = acc_13 + vl_34.x * yt_40 + vl_34.y * yt_41 + vl_34.z * yt_42 + vl_34.w * yt_43;
      acc_14 = acc_14 + vl_35.x * yt_40 + vl_35.y * yt_41 + vl_35.z * yt_42 + vl_35.w * yt_43;
    }
    var accs_44 = array<vec4<f32>, 8>(acc_7, acc_8, acc_9, acc_10, acc_11, acc_12, acc_13, acc_14);
    for (var i_45 = 0u; i_45 < opaque_5 + 4u; i_45++) {
      let gm_46 = c_6 + i_45;
      let gm_47 = min(gm_46, 9u);
      for (var q_48 = 0u; q_48 < opaque_5 + 2u; q_48++) {
        let cv_49 = vec4<f32>(accs_44[q_48 * 4u][i_45], accs_44[q_48 * 4u + 1u][i_45], accs_44[q_48 * 4u + 2u][i_45], accs_44[q_48 * 4u + 3u][i_45]);
        let gn_50 = q_48 * 4u;
        let f_51 = gm_47 * 8u + gn_50;
        let vl_52 = buf2[gn_50 / 4u];
        let vv_53 = cv_49 + vl_52;
        if (gm_46 < 10u) { buf3[f_51 / 4u] = vv_53; }
      }
    }
  }
  if (wg_0 >= 1u && wg_0 < 2u) {
    let part_54 = wg_0 - 1u;
    let wx_55 = 0u;
    let wy_56 = 0u;
    let wz_57 = part_54;
    let opaque_58 = wx_55 >> 31u; // 0 (workgroup ids are < 65536): keeps loop bounds from being constants the driver unrolls
    let c_59 = lid3.x * 4u;
    var acc_60 = vec4<f32>(0.0);
    var acc_61 = vec4<f32>(0.0);
    var acc_62 = vec4<f32>(0.0);
    var acc_63 = vec4<f32>(0.0);
    var acc_64 = vec4<f32>(0.0);
    var acc_65 = vec4<f32>(0.0);
    var acc_66 = vec4<f32>(0.0);
    var acc_67 = vec4<f32>(0.0);
    let cc_68 = min(c_59, 9u);
    let i_69 = cc_68 / 5u;
    let i_70 = cc_68 % 5u;
    let cc_71 = min(c_59 + 1u, 9u);
    let i_72 = cc_71 / 5u;
    let i_73 = cc_71 % 5u;
    let cc_74 = min(c_59 + 2u, 9u);
    let i_75 = cc_74 / 5u;
    let i_76 = cc_74 % 5u;
    let cc_77 = min(c_59 + 3u, 9u);
    let i_78 = cc_77 / 5u;
    let i_79 = cc_77 % 5u;
    for (var k_80 = 0u; k_80 < opaque_58 + 8u; k_80 += 4u) {
      let vl_81 = buf4[k_80 / 4u];
      let vl_82 = buf4[k_80 / 4u + 2u];
      let vl_83 = buf4[k_80 / 4u + 4u];
      let vl_84 = buf4[k_80 / 4u + 6u];
      let vl_85 = buf4[k_80 / 4u + 8u];
      let vl_86 = buf4[k_80 / 4u + 10u];
      let vl_87 = buf4[k_80 / 4u + 12u];
      let vl_88 = buf4[k_80 / 4u + 14u];
      let vl_89 = buf1[i_69 * 10u + i_70 * 2u + k_80 / 4u];
      let vl_90 = buf1[i_72 * 10u + i_73 * 2u + k_80 / 4u];
      let vl_91 = buf1[i_75 * 10u + i_76 * 2u + k_80 / 4u];
      let vl_92 = buf1[i_78 * 10u + i_79 * 2u + k_80 / 4u];
      let yt_93 = vec4<f32>(vl_89.x, vl_90.x, vl_91.x, vl_92.x);
      let yt_94 = vec4<f32>(vl_89.y, vl_90.y, vl_91.y, vl_92.y);
      let yt_95 = vec4<f32>(vl_89.z, vl_90.z, vl_91.z, vl_92.z);
      let yt_96 = vec4<f32>(vl_89.w, vl_90.w, vl_91.w, vl_92.w);
      acc_60 = acc_60 + vl_81.x * yt_93 + vl_81.y * yt_94 + vl_81.z * yt_95 + vl_81.w * yt_96;
      acc_61 = acc_61 + vl_82.x * yt_93 + vl_82.y * yt_94 + vl_82.z * yt_95 + vl_82.w * yt_96;
      acc_62 = acc_62 + vl_83.x * yt_93 + vl_83.y * yt_94 + vl_83.z * yt_95 + vl_83.w * yt_96;
      acc_63 = acc_63 + vl_84.x * yt_93 + vl_84.y * yt_94 + vl_84.z * yt_95 + vl_84.w * yt_96;
      acc_64 = acc_64 + vl_85.x * yt_93 + vl_85.y * yt_94 + vl_85.z * yt_95 + vl_85.w * yt_96;
      acc_65 = acc_65 + vl_86.x * yt_93 + vl_86.y * yt_94 + vl_86.z * yt_95 + vl_86.w * yt_96;
      acc_66 = acc_66 + vl_87.x * yt_93 + vl_87.y * yt_94 + vl_87.z * yt_95 + vl_87.w * yt_96;
      acc_67 = acc_67 + vl_88.x * yt_93 + vl_88.y * yt_94 + vl_88.z * yt_95 + vl_88.w * yt_96;
    }
    var accs_97 = array<vec4<f32>, 8>(acc_60, acc_61, acc_62, acc_63, acc_64, acc_65, acc_66, acc_67);
    for (var i_98 = 0u; i_98 < opaque_58 + 4u; i_98++) {
      let gm_99 = c_59 + i_98;
      let gm_100 = min(gm_99, 9u);
      for (var q_101 = 0u; q_101 < opaque_58 + 2u; q_101++) {
        let cv_102 = vec4<f32>(accs_97[q_101 * 4u][i_98], accs_97[q_101 * 4u + 1u][i_98], accs_97[q_101 * 4u + 2u][i_98], accs_97[q_101 * 4u + 3u][i_98]);
        let gn_103 = q_101 * 4u;
        let f_104 = gm_100 * 8u + gn_103;
        if (gm_99 < 10u) { buf5[f_104 / 4u] = cv_102; }
      }
    }
  }
  if (wg_0 >= 2u && wg_0 < 3u) {
    let part_105 = wg_0 - 2u;
    let wx_106 = 0u;
    let wy_107 = 0u;
    let wz_108 = part_105;
    let opaque_109 = wx_106 >> 31u; // 0 (workgroup ids are < 65536): keeps loop bounds from being constants the driver unrolls
    let c_110 = lid3.x * 4u;
    var acc_111 = vec4<f32>(0.0);
    var acc_112 = vec4<f32>(0.0);
    var acc_113 = vec4<f32>(0.0);
    var acc_114 = vec4<f32>(0.0);
    var acc_115 = vec4<f32>(0.0);
    var acc_116 = vec4<f32>(0.0);
    var acc_117 = vec4<f32>(0.0);
    var acc_118 = vec4<f32>(0.0);
    let cc_119 = min(c_110, 9u);
    let i_120 = cc_119 / 5u;
    let i_121 = cc_119 % 5u;
    let cc_122 = min(c_110 + 1u, 9u);
    let i_123 = cc_122 / 5u;
    let i_124 = cc_122 % 5u;
    let cc_125 = min(c_110 + 2u, 9u);
    let i_126 = cc_125 / 5u;
    let i_127 = cc_125 % 5u;
    let cc_128 = min(c_110 + 3u, 9u);
    let i_129 = cc_128 / 5u;
    let i_130 = cc_128 % 5u;
    for (var k_131 = 0u; k_131 < opaque_109 + 8u; k_131 += 4u) {
      let vl_132 = buf6[k_131 / 4u];
      let vl_133 = buf6[k_131 / 4u + 2u];
      let vl_134 = buf6[k_131 / 4u + 4u];
      let vl_135 = buf6[k_131 / 4u + 6u];
      let vl_136 = buf6[k_131 / 4u + 8u];
      let vl_137 = buf6[k_131 / 4u + 10u];
      let vl_138 = buf6[k_131 / 4u + 12u];
      let vl_139 = buf6[k_131 / 4u + 14u];
      let vl_140 = buf1[i_120 * 10u + i_121 * 2u + k_131 / 4u];
      let vl_141 = buf1[i_123 * 10u + i_124 * 2u + k_131 / 4u];
      let vl_142 = buf1[i_126 * 10u + i_127 * 2u + k_131 / 4u];
      let vl_143 = buf1[i_129 * 10u + i_130 * 2u + k_131 / 4u];
      let yt_144 = vec4<f32>(vl_140.x, vl_141.x, vl_142.x, vl_143.x);
      let yt_145 = vec4<f32>(vl_140.y, vl_141.y, vl_142.y, vl_143.y);
      let yt_146 = vec4<f32>(vl_140.z, vl_141.z, vl_142.z, vl_143.z);
      let yt_147 = vec4<f32>(vl_140.w, vl_141.w, vl_142.w, vl_143.w);
      acc_111 = acc_111 + vl_132.x * yt_144 + vl_132.y * yt_145 + vl_132.z * yt_146 + vl_132.w * yt_147;
      acc_112 = acc_112 + vl_133.x * yt_144 + vl_133.y * yt_145 + vl_133.z * yt_146 + vl_133.w * yt_147;
      acc_113 = acc_113 + vl_134.x * yt_144 + vl_134.y * yt_145 + vl_134.z * yt_146 + vl_134.w * yt_147;
      acc_114 = acc_114 + vl_135.x * yt_144 + vl_135.y * yt_145 + vl_135.z * yt_146 + vl_135.w * yt_147;
      acc_115 = acc_115 + vl_136.x * yt_144 + vl_136.y * yt_145 + vl_136.z * yt_146 + vl_136.w * yt_147;
      acc_116 = acc_116 + vl_137.x * yt_144 + vl_137.y * yt_145 + vl_137.z * yt_146 + vl_137.w * yt_147;
      acc_117 = acc_117 + vl_138.x * yt_144 + vl_138.y * yt_145 + vl_138.z * yt_146 + vl_138.w * yt_147;
      acc_118 = acc_118 + vl_139.x * yt_144 + vl_139.y * yt_145 + vl_139.z * yt_146 + vl_139.w * yt_147;
    }
    var accs_148 = array<vec4<f32>, 8>(acc_111, acc_112, acc_113, acc_114, acc_115, acc_116, acc_117, acc_118);
    for (var r_149 = 0u; r_149 < opaque_109 + 8u; r_149++) {
      for (var i_150 = 0u; i_150 < opaque_109 + 4u; i_150++) {
        let gm_151 = c_110 + i_150;
        let gm_152 = min(gm_151, 9u);
        let i_153 = gm_152 / 5u;
        let i_154 = gm_152 % 5u;
        if (gm_151 < 10u) { buf7[i_153 * 40u + r_149 * 5u + i_154] = accs_148[r_149][i_150]; }
      }
    }
  }
}
