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
    let n_6 = arrayLength(&buf1) * 4u / 10u;
    let c_7 = lid3.x * 4u;
    var acc_8 = vec4<f32>(0.0);
    var acc_9 = vec4<f32>(0.0);
    var acc_10 = vec4<f32>(0.0);
    var acc_11 = vec4<f32>(0.0);
    var acc_12 = vec4<f32>(0.0);
    var acc_13 = vec4<f32>(0.0);
    var acc_14 = vec4<f32>(0.0);
    var acc_15 = vec4<f32>(0.0);
    let k4_16 = n_6 / 4u * 4u;
    let cc_17 = min(c_7, 9u);
    let cc_18 = min(c_7 + 1u, 9u);
    let cc_19 = min(c_7 + 2u, 9u);
    let cc_20 = min(c_7 + 3u, 9u);
    for (var k_21 = 0u; k_21 < k4_16; k_21 += 4u) {
      let vl_22 = buf0[k_21 / 4u];
      let vl_23 = buf0[k_21 / 4u + 2u];
      let vl_24 = buf0[k_21 / 4u + 4u];
      let vl_25 = buf0[k_21 / 4u + 6u];
      let vl_26 = buf0[k_21 / 4u + 8u];
      let vl_27 = buf0[k_21 / 4u + 10u];
      let vl_28 = buf0[k_21 / 4u + 12u];
      let vl_29 = buf0[k_21 / 4u + 14u];
      let f_30 = cc_17 * 8u + k_21;
      let i_31 = k_21 % 8u;
      let vl_32 = buf1[f_30 / 8u * 2u + i_31 / 4u];
      let f_33 = cc_18 * 8u + k_21;
      let vl_34 = buf1[f_33 / 8u * 2u + i_31 / 4u];
      let f_35 = cc_19 * 8u + k_21;
      let vl_36 = buf1[f_35 / 8u * 2u + i_31 / 4u];
      let f_37 = cc_20 * 8u + k_21;
      let vl_38 = buf1[f_37 / 8u * 2u + i_31 / 4u];
      let yt_39 = vec4<f32>(vl_32.x, vl_34.x, vl_36.x, vl_38.x);
      let yt_40 = vec4<f32>(vl_32.y, vl_34.y, vl_36.y, vl_38.y);
      let yt_41 = vec4<f32>(vl_32.z, vl_34.z, vl_36.z, vl_38.z);
      let yt_42 = vec4<f32>(vl_32.w, vl_34.w, vl_36.w, vl_38.w);
      acc_8 = acc_8 + vl_22.x * yt_39 + vl_22.y * yt_40 + vl_22.z * yt_41 + vl_22.w * yt_42;
      acc_9 = acc_9 + vl_23.x * yt_39 + vl_23.y * yt_40 + vl_23.z * yt_41 + vl_23.w * yt_42;
      acc_10 = acc_10 + vl_24.x * yt_39 + vl_24.y * yt_40 + vl_24.z * yt_41 + vl_24.w * yt_42;
      acc_11 = acc_11 + vl_25.x * yt_39 + vl_25.y * yt_40 + vl_25.z * yt_41 + vl_25.w * yt_42;
      acc_12 = acc_12 + vl_26.x * yt_39 + vl_26.y * yt_40 + vl_26.z * yt_41 + vl_26.w * yt_42;
      acc_13 = acc_13 + vl_27.x * yt_39 + vl_27.y * yt_40 + vl_27.z * yt_41 + vl_27.w * yt_42;
      acc_14 = acc_14 + vl_28.x * yt_39 + vl_28.y * yt_40 + vl_28.z * yt_41 + vl_28.w * yt_42;
      acc_15 = acc_15 + vl_29.x * yt_39 + vl_29.y * yt_40 + vl_29.z * yt_41 + vl_29.w * yt_42;
    }
    var accs_43 = array<vec4<f32>, 8>(acc_8, acc_9, acc_10, acc_11, acc_12, acc_13, acc_14, acc_15);
    for (var i_44 = 0u; i_44 < opaque_5 + 4u; i_44++) {
      let gm_45 = c_7 + i_44;
      let gm_46 = min(gm_45, 9u);
      for (var q_47 = 0u; q_47 < opaque_5 + 2u; q_47++) {
        let cv_48 = vec4<f32>(accs_43[q_47 * 4u][i_44], accs_43[q_47 * 4u + 1u][i_44], accs_43[q_47 * 4u + 2u][i_44], accs_43[q_47 * 4u + 3u][i_44]);
        let gn_49 = q_47 * 4u;
        let f_50 = gm_46 * 8u + gn_49;
        let vl_51 = buf2[gn_49 / 4u];
        let vv_52 = cv_48 + vl_51;
        if (gm_45 < 10u) { buf3[f_50 / 4u] = vv_52; }
      }
    }
  }
  if (wg_0 >= 1u && wg_0 < 2u) {
    let part_53 = wg_0 - 1u;
    let wx_54 = 0u;
    let wy_55 = 0u;
    let wz_56 = part_53;
    let opaque_57 = wx_54 >> 31u; // 0 (workgroup ids are < 65536): keeps loop bounds from being constants the driver unrolls
    let n_58 = arrayLength(&buf1) * 4u / 10u;
    let c_59 = lid3.x * 4u;
    var acc_60 = vec4<f32>(0.0);
    var acc_61 = vec4<f32>(0.0);
    var acc_62 = vec4<f32>(0.0);
    var acc_63 = vec4<f32>(0.0);
    var acc_64 = vec4<f32>(0.0);
    var acc_65 = vec4<f32>(0.0);
    var acc_66 = vec4<f32>(0.0);
    var acc_67 = vec4<f32>(0.0);
    let k4_68 = n_58 / 4u * 4u;
    let cc_69 = min(c_59, 9u);
    let cc_70 = min(c_59 + 1u, 9u);
    let cc_71 = min(c_59 + 2u, 9u);
    let cc_72 = min(c_59 + 3u, 9u);
    for (var k_73 = 0u; k_73 < k4_68; k_73 += 4u) {
      let vl_74 = buf4[k_73 / 4u];
      let vl_75 = buf4[k_73 / 4u + 2u];
      let vl_76 = buf4[k_73 / 4u + 4u];
      let vl_77 = buf4[k_73 / 4u + 6u];
      let vl_78 = buf4[k_73 / 4u + 8u];
      let vl_79 = buf4[k_73 / 4u + 10u];
      let vl_80 = buf4[k_73 / 4u + 12u];
      let vl_81 = buf4[k_73 / 4u + 14u];
      let f_82 = cc_69 * 8u + k_73;
      let i_83 = k_73 % 8u;
      let vl_84 = buf1[f_82 / 8u * 2u + i_83 / 4u];
      let f_85 = cc_70 * 8u + k_73;
      let vl_86 = buf1[f_85 / 8u * 2u + i_83 / 4u];
      let f_87 = cc_71 * 8u + k_73;
      let vl_88 = buf1[f_87 / 8u * 2u + i_83 / 4u];
      let f_89 = cc_72 * 8u + k_73;
      let vl_90 = buf1[f_89 / 8u * 2u + i_83 / 4u];
      let yt_91 = vec4<f32>(vl_84.x, vl_86.x, vl_88.x, vl_90.x);
      let yt_92 = vec4<f32>(vl_84.y, vl_86.y, vl_88.y, vl_90.y);
      let yt_93 = vec4<f32>(vl_84.z, vl_86.z, vl_88.z, vl_90.z);
      let yt_94 = vec4<f32>(vl_84.w, vl_86.w, vl_88.w, vl_90.w);
      acc_60 = acc_60 + vl_74.x * yt_91 + vl_74.y * yt_92 + vl_74.z * yt_93 + vl_74.w * yt_94;
      acc_61 = acc_61 + vl_75.x * yt_91 + vl_75.y * yt_92 + vl_75.z * yt_93 + vl_75.w * yt_94;
      acc_62 = acc_62 + vl_76.x * yt_91 + vl_76.y * yt_92 + vl_76.z * yt_93 + vl_76.w * yt_94;
      acc_63 = acc_63 + vl_77.x * yt_91 + vl_77.y * yt_92 + vl_77.z * yt_93 + vl_77.w * yt_94;
      acc_64 = acc_64 + vl_78.x * yt_91 + vl_78.y * yt_92 + vl_78.z * yt_93 + vl_78.w * yt_94;
      acc_65 = acc_65 + vl_79.x * yt_91 + vl_79.y * yt_92 + vl_79.z * yt_93 + vl_79.w * yt_94;
      acc_66 = acc_66 + vl_80.x * yt_91 + vl_80.y * yt_92 + vl_80.z * yt_93 + vl_80.w * yt_94;
      acc_67 = acc_67 + vl_81.x * yt_91 + vl_81.y * yt_92 + vl_81.z * yt_93 + vl_81.w * yt_94;
    }
    var accs_95 = array<vec4<f32>, 8>(acc_60, acc_61, acc_62, acc_63, acc_64, acc_65, acc_66, acc_67);
    for (var i_96 = 0u; i_96 < opaque_57 + 4u; i_96++) {
      let gm_97 = c_59 + i_96;
      let gm_98 = min(gm_97, 9u);
      for (var q_99 = 0u; q_99 < opaque_57 + 2u; q_99++) {
        let cv_100 = vec4<f32>(accs_95[q_99 * 4u][i_96], accs_95[q_99 * 4u + 1u][i_96], accs_95[q_99 * 4u + 2u][i_96], accs_95[q_99 * 4u + 3u][i_96]);
        let gn_101 = q_99 * 4u;
        let f_102 = gm_98 * 8u + gn_101;
        if (gm_97 < 10u) { buf5[f_102 / 4u] = cv_100; }
      }
    }
  }
  if (wg_0 >= 2u && wg_0 < 3u) {
    let part_103 = wg_0 - 2u;
    let wx_104 = 0u;
    let wy_105 = 0u;
    let wz_106 = part_103;
    let opaque_107 = wx_104 >> 31u; // 0 (workgroup ids are < 65536): keeps loop bounds from being constants the driver unrolls
    let n_108 = arrayLength(&buf1) * 4u / 10u;
    let c_109 = lid3.x * 4u;
    var acc_110 = vec4<f32>(0.0);
    var acc_111 = vec4<f32>(0.0);
    var acc_112 = vec4<f32>(0.0);
    var acc_113 = vec4<f32>(0.0);
    var acc_114 = vec4<f32>(0.0);
    var acc_115 = vec4<f32>(0.0);
    var acc_116 = vec4<f32>(0.0);
    var acc_117 = vec4<f32>(0.0);
    let k4_118 = n_108 / 4u * 4u;
    let cc_119 = min(c_109, 9u);
    let cc_120 = min(c_109 + 1u, 9u);
    let cc_121 = min(c_109 + 2u, 9u);
    let cc_122 = min(c_109 + 3u, 9u);
    for (var k_123 = 0u; k_123 < k4_118; k_123 += 4u) {
      let vl_124 = buf6[k_123 / 4u];
      let vl_125 = buf6[k_123 / 4u + 2u];
      let vl_126 = buf6[k_123 / 4u + 4u];
      let vl_127 = buf6[k_123 / 4u + 6u];
      let vl_128 = buf6[k_123 / 4u + 8u];
      let vl_129 = buf6[k_123 / 4u + 10u];
      let vl_130 = buf6[k_123 / 4u + 12u];
      let vl_131 = buf6[k_123 / 4u + 14u];
      let f_132 = cc_119 * 8u + k_123;
      let i_133 = k_123 % 8u;
      let vl_134 = buf1[f_132 / 8u * 2u + i_133 / 4u];
      let f_135 = cc_120 * 8u + k_123;
      let vl_136 = buf1[f_135 / 8u * 2u + i_133 / 4u];
      let f_137 = cc_121 * 8u + k_123;
      let vl_138 = buf1[f_137 / 8u * 2u + i_133 / 4u];
      let f_139 = cc_122 * 8u + k_123;
      let vl_140 = buf1[f_139 / 8u * 2u + i_133 / 4u];
      let yt_141 = vec4<f32>(vl_134.x, vl_136.x, vl_138.x, vl_140.x);
      let yt_142 = vec4<f32>(vl_134.y, vl_136.y, vl_138.y, vl_140.y);
      let yt_143 = vec4<f32>(vl_134.z, vl_136.z, vl_138.z, vl_140.z);
      let yt_144 = vec4<f32>(vl_134.w, vl_136.w, vl_138.w, vl_140.w);
      acc_110 = acc_110 + vl_124.x * yt_141 + vl_124.y * yt_142 + vl_124.z * yt_143 + vl_124.w * yt_144;
      acc_111 = acc_111 + vl_125.x * yt_141 + vl_125.y * yt_142 + vl_125.z * yt_143 + vl_125.w * yt_144;
      acc_112 = acc_112 + vl_126.x * yt_141 + vl_126.y * yt_142 + vl_126.z * yt_143 + vl_126.w * yt_144;
      acc_113 = acc_113 + vl_127.x * yt_141 + vl_127.y * yt_142 + vl_127.z * yt_143 + vl_127.w * yt_144;
      acc_114 = acc_114 + vl_128.x * yt_141 + vl_128.y * yt_142 + vl_128.z * yt_143 + vl_128.w * yt_144;
      acc_115 = acc_115 + vl_129.x * yt_141 + vl_129.y * yt_142 + vl_129.z * yt_143 + vl_129.w * yt_144;
      acc_116 = acc_116 + vl_130.x * yt_141 + vl_130.y * yt_142 + vl_130.z * yt_143 + vl_130.w * yt_144;
      acc_117 = acc_117 + vl_131.x * yt_141 + vl_131.y * yt_142 + vl_131.z * yt_143 + vl_131.w * yt_144;
    }
    var accs_145 = array<vec4<f32>, 8>(acc_110, acc_111, acc_112, acc_113, acc_114, acc_115, acc_116, acc_117);
    for (var r_146 = 0u; r_146 < opaque_107 + 8u; r_146++) {
      for (var i_147 = 0u; i_147 < opaque_107 + 4u; i_147++) {
        let gm_148 = c_109 + i_147;
        let gm_149 = min(gm_148, 9u);
        let i_150 = gm_149 / 5u;
        let i_151 = gm_149 % 5u;
        if (gm_148 < 10u) { buf7[i_150 * 40u + r_146 * 5u + i_151] = accs_145[r_146][i_147]; }
      }
    }
  }
}
