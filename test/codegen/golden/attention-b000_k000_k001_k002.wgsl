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
    let cc_16 = min(c_6 + 1u, 9u);
    let cc_17 = min(c_6 + 2u, 9u);
    let cc_18 = min(c_6 + 3u, 9u);
    for (var k_19 = 0u; k_19 < opaque_5 + 8u; k_19 += 4u) {
      let vl_20 = buf0[k_19 / 4u];
      let vl_21 = buf0[k_19 / 4u + 2u];
      let vl_22 = buf0[k_19 / 4u + 4u];
      let vl_23 = buf0[k_19 / 4u + 6u];
      let vl_24 = buf0[k_19 / 4u + 8u];
      let vl_25 = buf0[k_19 / 4u + 10u];
      let vl_26 = buf0[k_19 / 4u + 12u];
      let vl_27 = buf0[k_19 / 4u + 14u];
      let vl_28 = buf1[cc_15 * 2u + k_19 / 4u];
      let vl_29 = buf1[cc_16 * 2u + k_19 / 4u];
      let vl_30 = buf1[cc_17 * 2u + k_19 / 4u];
      let vl_31 = buf1[cc_18 * 2u + k_19 / 4u];
      let yt_32 = vec4<f32>(vl_28.x, vl_29.x, vl_30.x, vl_31.x);
      let yt_33 = vec4<f32>(vl_28.y, vl_29.y, vl_30.y, vl_31.y);
      let yt_34 = vec4<f32>(vl_28.z, vl_29.z, vl_30.z, vl_31.z);
      let yt_35 = vec4<f32>(vl_28.w, vl_29.w, vl_30.w, vl_31.w);
      acc_7 = acc_7 + vl_20.x * yt_32 + vl_20.y * yt_33 + vl_20.z * yt_34 + vl_20.w * yt_35;
      acc_8 = acc_8 + vl_21.x * yt_32 + vl_21.y * yt_33 + vl_21.z * yt_34 + vl_21.w * yt_35;
      acc_9 = acc_9 + vl_22.x * yt_32 + vl_22.y * yt_33 + vl_22.z * yt_34 + vl_22.w * yt_35;
      acc_10 = acc_10 + vl_23.x * yt_32 + vl_23.y * yt_33 + vl_23.z * yt_34 + vl_23.w * yt_35;
      acc_11 = acc_11 + vl_24.x * yt_32 + vl_24.y * yt_33 + vl_24.z * yt_34 + vl_24.w * yt_35;
      acc_12 = acc_12 + vl_25.x * yt_32 + vl_25.y * yt_33 + vl_25.z * yt_34 + vl_25.w * yt_35;
      acc_13 = acc_13 + vl_26.x * yt_32 + vl_26.y * yt_33 + vl_26.z * yt_34 + vl_26.w * yt_35;
      acc_14 = acc_14 + vl_27.x * yt_32 + vl_27.y * yt_33 + vl_27.z * yt_34 + vl_27.w * yt_35;
    }
    var accs_36 = array<vec4<f32>, 8>(acc_7, acc_8, acc_9, acc_10, acc_11, acc_12, acc_13, acc_14);
    for (var i_37 = 0u; i_37 < opaque_5 + 4u; i_37++) {
      let gm_38 = c_6 + i_37;
      let gm_39 = min(gm_38, 9u);
      for (var q_40 = 0u; q_40 < opaque_5 + 2u; q_40++) {
        let cv_41 = vec4<f32>(accs_36[q_40 * 4u][i_37], accs_36[q_40 * 4u + 1u][i_37], accs_36[q_40 * 4u + 2u][i_37], accs_36[q_40 * 4u + 3u][i_37]);
        let gn_42 = q_40 * 4u;
        let f_43 = gm_39 * 8u + gn_42;
        let vl_44 = buf2[gn_42 / 4u];
        let vv_45 = cv_41 + vl_44;
        if (gm_38 < 10u) { buf3[f_43 / 4u] = vv_45; }
      }
    }
  }
  if (wg_0 >= 1u && wg_0 < 2u) {
    let part_46 = wg_0 - 1u;
    let wx_47 = 0u;
    let wy_48 = 0u;
    let wz_49 = part_46;
    let opaque_50 = wx_47 >> 31u; // 0 (workgroup ids are < 65536): keeps loop bounds from being constants the driver unrolls
    let c_51 = lid3.x * 4u;
    var acc_52 = vec4<f32>(0.0);
    var acc_53 = vec4<f32>(0.0);
    var acc_54 = vec4<f32>(0.0);
    var acc_55 = vec4<f32>(0.0);
    var acc_56 = vec4<f32>(0.0);
    var acc_57 = vec4<f32>(0.0);
    var acc_58 = vec4<f32>(0.0);
    var acc_59 = vec4<f32>(0.0);
    let cc_60 = min(c_51, 9u);
    let cc_61 = min(c_51 + 1u, 9u);
    let cc_62 = min(c_51 + 2u, 9u);
    let cc_63 = min(c_51 + 3u, 9u);
    for (var k_64 = 0u; k_64 < opaque_50 + 8u; k_64 += 4u) {
      let vl_65 = buf4[k_64 / 4u];
      let vl_66 = buf4[k_64 / 4u + 2u];
      let vl_67 = buf4[k_64 / 4u + 4u];
      let vl_68 = buf4[k_64 / 4u + 6u];
      let vl_69 = buf4[k_64 / 4u + 8u];
      let vl_70 = buf4[k_64 / 4u + 10u];
      let vl_71 = buf4[k_64 / 4u + 12u];
      let vl_72 = buf4[k_64 / 4u + 14u];
      let vl_73 = buf1[cc_60 * 2u + k_64 / 4u];
      let vl_74 = buf1[cc_61 * 2u + k_64 / 4u];
      let vl_75 = buf1[cc_62 * 2u + k_64 / 4u];
      let vl_76 = buf1[cc_63 * 2u + k_64 / 4u];
      let yt_77 = vec4<f32>(vl_73.x, vl_74.x, vl_75.x, vl_76.x);
      let yt_78 = vec4<f32>(vl_73.y, vl_74.y, vl_75.y, vl_76.y);
      let yt_79 = vec4<f32>(vl_73.z, vl_74.z, vl_75.z, vl_76.z);
      let yt_80 = vec4<f32>(vl_73.w, vl_74.w, vl_75.w, vl_76.w);
      acc_52 = acc_52 + vl_65.x * yt_77 + vl_65.y * yt_78 + vl_65.z * yt_79 + vl_65.w * yt_80;
      acc_53 = acc_53 + vl_66.x * yt_77 + vl_66.y * yt_78 + vl_66.z * yt_79 + vl_66.w * yt_80;
      acc_54 = acc_54 + vl_67.x * yt_77 + vl_67.y * yt_78 + vl_67.z * yt_79 + vl_67.w * yt_80;
      acc_55 = acc_55 + vl_68.x * yt_77 + vl_68.y * yt_78 + vl_68.z * yt_79 + vl_68.w * yt_80;
      acc_56 = acc_56 + vl_69.x * yt_77 + vl_69.y * yt_78 + vl_69.z * yt_79 + vl_69.w * yt_80;
      acc_57 = acc_57 + vl_70.x * yt_77 + vl_70.y * yt_78 + vl_70.z * yt_79 + vl_70.w * yt_80;
      acc_58 = acc_58 + vl_71.x * yt_77 + vl_71.y * yt_78 + vl_71.z * yt_79 + vl_71.w * yt_80;
      acc_59 = acc_59 + vl_72.x * yt_77 + vl_72.y * yt_78 + vl_72.z * yt_79 + vl_72.w * yt_80;
    }
    var accs_81 = array<vec4<f32>, 8>(acc_52, acc_53, acc_54, acc_55, acc_56, acc_57, acc_58, acc_59);
    for (var i_82 = 0u; i_82 < opaque_50 + 4u; i_82++) {
      let gm_83 = c_51 + i_82;
      let gm_84 = min(gm_83, 9u);
      for (var q_85 = 0u; q_85 < opaque_50 + 2u; q_85++) {
        let cv_86 = vec4<f32>(accs_81[q_85 * 4u][i_82], accs_81[q_85 * 4u + 1u][i_82], accs_81[q_85 * 4u + 2u][i_82], accs_81[q_85 * 4u + 3u][i_82]);
        let gn_87 = q_85 * 4u;
        let f_88 = gm_84 * 8u + gn_87;
        if (gm_83 < 10u) { buf5[f_88 / 4u] = cv_86; }
      }
    }
  }
  if (wg_0 >= 2u && wg_0 < 3u) {
    let part_89 = wg_0 - 2u;
    let wx_90 = 0u;
    let wy_91 = 0u;
    let wz_92 = part_89;
    let opaque_93 = wx_90 >> 31u; // 0 (workgroup ids are < 65536): keeps loop bounds from being constants the driver unrolls
    let c_94 = lid3.x * 4u;
    var acc_95 = vec4<f32>(0.0);
    var acc_96 = vec4<f32>(0.0);
    var acc_97 = vec4<f32>(0.0);
    var acc_98 = vec4<f32>(0.0);
    var acc_99 = vec4<f32>(0.0);
    var acc_100 = vec4<f32>(0.0);
    var acc_101 = vec4<f32>(0.0);
    var acc_102 = vec4<f32>(0.0);
    let cc_103 = min(c_94, 9u);
    let cc_104 = min(c_94 + 1u, 9u);
    let cc_105 = min(c_94 + 2u, 9u);
    let cc_106 = min(c_94 + 3u, 9u);
    for (var k_107 = 0u; k_107 < opaque_93 + 8u; k_107 += 4u) {
      let vl_108 = buf6[k_107 / 4u];
      let vl_109 = buf6[k_107 / 4u + 2u];
      let vl_110 = buf6[k_107 / 4u + 4u];
      let vl_111 = buf6[k_107 / 4u + 6u];
      let vl_112 = buf6[k_107 / 4u + 8u];
      let vl_113 = buf6[k_107 / 4u + 10u];
      let vl_114 = buf6[k_107 / 4u + 12u];
      let vl_115 = buf6[k_107 / 4u + 14u];
      let vl_116 = buf1[cc_103 * 2u + k_107 / 4u];
      let vl_117 = buf1[cc_104 * 2u + k_107 / 4u];
      let vl_118 = buf1[cc_105 * 2u + k_107 / 4u];
      let vl_119 = buf1[cc_106 * 2u + k_107 / 4u];
      let yt_120 = vec4<f32>(vl_116.x, vl_117.x, vl_118.x, vl_119.x);
      let yt_121 = vec4<f32>(vl_116.y, vl_117.y, vl_118.y, vl_119.y);
      let yt_122 = vec4<f32>(vl_116.z, vl_117.z, vl_118.z, vl_119.z);
      let yt_123 = vec4<f32>(vl_116.w, vl_117.w, vl_118.w, vl_119.w);
      acc_95 = acc_95 + vl_108.x * yt_120 + vl_108.y * yt_121 + vl_108.z * yt_122 + vl_108.w * yt_123;
      acc_96 = acc_96 + vl_109.x * yt_120 + vl_109.y * yt_121 + vl_109.z * yt_122 + vl_109.w * yt_123;
      acc_97 = acc_97 + vl_110.x * yt_120 + vl_110.y * yt_121 + vl_110.z * yt_122 + vl_110.w * yt_123;
      acc_98 = acc_98 + vl_111.x * yt_120 + vl_111.y * yt_121 + vl_111.z * yt_122 + vl_111.w * yt_123;
      acc_99 = acc_99 + vl_112.x * yt_120 + vl_112.y * yt_121 + vl_112.z * yt_122 + vl_112.w * yt_123;
      acc_100 = acc_100 + vl_113.x * yt_120 + vl_113.y * yt_121 + vl_113.z * yt_122 + vl_113.w * yt_123;
      acc_101 = acc_101 + vl_114.x * yt_120 + vl_114.y * yt_121 + vl_114.z * yt_122 + vl_114.w * yt_123;
      acc_102 = acc_102 + vl_115.x * yt_120 + vl_115.y * yt_121 + vl_115.z * yt_122 + vl_115.w * yt_123;
    }
    var accs_124 = array<vec4<f32>, 8>(acc_95, acc_96, acc_97, acc_98, acc_99, acc_100, acc_101, acc_102);
    for (var r_125 = 0u; r_125 < opaque_93 + 8u; r_125++) {
      for (var i_126 = 0u; i_126 < opaque_93 + 4u; i_126++) {
        let gm_127 = c_94 + i_126;
        let gm_128 = min(gm_127, 9u);
        let i_129 = gm_128 / 5u;
        let i_130 = gm_128 % 5u;
        if (gm_127 < 10u) { buf7[i_129 * 40u + r_125 * 5u + i_130] = accs_124[r_125][i_126]; }
      }
    }
  }
}
