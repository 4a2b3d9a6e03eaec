// b000_k000_k001_k002: batch kernel, k000_matmul_add_2x5x8 + k001_matmul_reshape_2x5x8 + k002_matmul_permute_2x8x5; workgroup 8x2x1, dispatch 3x1x1
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

@compute @workgroup_size(8, 2, 1)
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
    let r_8 = lid3.y * 4u;
    var acc_9 = vec4<f32>(0.0);
    var acc_10 = vec4<f32>(0.0);
    var acc_11 = vec4<f32>(0.0);
    var acc_12 = vec4<f32>(0.0);
    let k4_13 = n_6 / 4u * 4u;
    let xr_14 = r_8 + 1u;
    let xr_15 = r_8 + 2u;
    let xr_16 = r_8 + 3u;
    let cc_17 = min(c_7, 9u);
    let cc_18 = min(c_7 + 1u, 9u);
    let cc_19 = min(c_7 + 2u, 9u);
    let cc_20 = min(c_7 + 3u, 9u);
    for (var k_21 = 0u; k_21 < k4_13; k_21 += 4u) {
      let vl_22 = buf0[r_8 * 2u + k_21 / 4u];
      let vl_23 = buf0[xr_14 * 2u + k_21 / 4u];
      let vl_24 = buf0[xr_15 * 2u + k_21 / 4u];
      let vl_25 = buf0[xr_16 * 2u + k_21 / 4u];
      let f_26 = cc_17 * 8u + k_21;
      let i_27 = k_21 % 8u;
      let vl_28 = buf1[f_26 / 8u * 2u + i_27 / 4u];
      let f_29 = cc_18 * 8u + k_21;
      let vl_30 = buf1[f_29 / 8u * 2u + i_27 / 4u];
      let f_31 = cc_19 * 8u + k_21;
      let vl_32 = buf1[f_31 / 8u * 2u + i_27 / 4u];
      let f_33 = cc_20 * 8u + k_21;
      let vl_34 = buf1[f_33 / 8u * 2u + i_27 / 4u];
      let yt_35 = vec4<f32>(vl_28.x, vl_30.x, vl_32.x, vl_34.x);
      let yt_36 = vec4<f32>(vl_28.y, vl_30.y, vl_32.y, vl_34.y);
      let yt_37 = vec4<f32>(vl_28.z, vl_30.z, vl_32.z, vl_34.z);
      let yt_38 = vec4<f32>(vl_28.w, vl_30.w, vl_32.w, vl_34.w);
      acc_9 = acc_9 + vl_22.x * yt_35 + vl_22.y * yt_36 + vl_22.z * yt_37 + vl_22.w * yt_38;
      acc_10 = acc_10 + vl_23.x * yt_35 + vl_23.y * yt_36 + vl_23.z * yt_37 + vl_23.w * yt_38;
      acc_11 = acc_11 + vl_24.x * yt_35 + vl_24.y * yt_36 + vl_24.z * yt_37 + vl_24.w * yt_38;
      acc_12 = acc_12 + vl_25.x * yt_35 + vl_25.y * yt_36 + vl_25.z * yt_37 + vl_25.w * yt_38;
    }
    var accs_39 = array<vec4<f32>, 4>(acc_9, acc_10, acc_11, acc_12);
    let vl_40 = buf2[r_8 / 4u];
    for (var i_41 = 0u; i_41 < opaque_5 + 4u; i_41++) {
      let gm_42 = c_7 + i_41;
      let gm_43 = min(gm_42, 9u);
      let f_44 = gm_43 * 8u + r_8;
      for (var q_45 = 0u; q_45 < opaque_5 + 1u; q_45++) {
        let cv_46 = vec4<f32>(accs_39[0u][i_41], accs_39[1u][i_41], accs_39[2u][i_41], accs_39[3u][i_41]);
        let vv_47 = cv_46 + vl_40;
        if (gm_42 < 10u) { buf3[f_44 / 4u] = vv_47; }
      }
    }
  }
  if (wg_0 >= 1u && wg_0 < 2u) {
    let part_48 = wg_0 - 1u;
    let wx_49 = 0u;
    let wy_50 = 0u;
    let wz_51 = part_48;
    let opaque_52 = wx_49 >> 31u; // 0 (workgroup ids are < 65536): keeps loop bounds from being constants the driver unrolls
    let n_53 = arrayLength(&buf1) * 4u / 10u;
    let c_54 = lid3.x * 4u;
    let r_55 = lid3.y * 4u;
    var acc_56 = vec4<f32>(0.0);
    var acc_57 = vec4<f32>(0.0);
    var acc_58 = vec4<f32>(0.0);
    var acc_59 = vec4<f32>(0.0);
    let k4_60 = n_53 / 4u * 4u;
    let xr_61 = r_55 + 1u;
    let xr_62 = r_55 + 2u;
    let xr_63 = r_55 + 3u;
    let cc_64 = min(c_54, 9u);
    let cc_65 = min(c_54 + 1u, 9u);
    let cc_66 = min(c_54 + 2u, 9u);
    let cc_67 = min(c_54 + 3u, 9u);
    for (var k_68 = 0u; k_68 < k4_60; k_68 += 4u) {
      let vl_69 = buf4[r_55 * 2u + k_68 / 4u];
      let vl_70 = buf4[xr_61 * 2u + k_68 / 4u];
      let vl_71 = buf4[xr_62 * 2u + k_68 / 4u];
      let vl_72 = buf4[xr_63 * 2u + k_68 / 4u];
      let f_73 = cc_64 * 8u + k_68;
      let i_74 = k_68 % 8u;
      let vl_75 = buf1[f_73 / 8u * 2u + i_74 / 4u];
      let f_76 = cc_65 * 8u + k_68;
      let vl_77 = buf1[f_76 / 8u * 2u + i_74 / 4u];
      let f_78 = cc_66 * 8u + k_68;
      let vl_79 = buf1[f_78 / 8u * 2u + i_74 / 4u];
      let f_80 = cc_67 * 8u + k_68;
      let vl_81 = buf1[f_80 / 8u * 2u + i_74 / 4u];
      let yt_82 = vec4<f32>(vl_75.x, vl_77.x, vl_79.x, vl_81.x);
      let yt_83 = vec4<f32>(vl_75.y, vl_77.y, vl_79.y, vl_81.y);
      let yt_84 = vec4<f32>(vl_75.z, vl_77.z, vl_79.z, vl_81.z);
      let yt_85 = vec4<f32>(vl_75.w, vl_77.w, vl_79.w, vl_81.w);
      acc_56 = acc_56 + vl_69.x * yt_82 + vl_69.y * yt_83 + vl_69.z * yt_84 + vl_69.w * yt_85;
      acc_57 = acc_57 + vl_70.x * yt_82 + vl_70.y * yt_83 + vl_70.z * yt_84 + vl_70.w * yt_85;
      acc_58 = acc_58 + vl_71.x * yt_82 + vl_71.y * yt_83 + vl_71.z * yt_84 + vl_71.w * yt_85;
      acc_59 = acc_59 + vl_72.x * yt_82 + vl_72.y * yt_83 + vl_72.z * yt_84 + vl_72.w * yt_85;
    }
    var accs_86 = array<vec4<f32>, 4>(acc_56, acc_57, acc_58, acc_59);
    for (var i_87 = 0u; i_87 < opaque_52 + 4u; i_87++) {
      let gm_88 = c_54 + i_87;
      let gm_89 = min(gm_88, 9u);
      let f_90 = gm_89 * 8u + r_55;
      for (var q_91 = 0u; q_91 < opaque_52 + 1u; q_91++) {
        let cv_92 = vec4<f32>(accs_86[0u][i_87], accs_86[1u][i_87], accs_86[2u][i_87], accs_86[3u][i_87]);
        if (gm_88 < 10u) { buf5[f_90 / 4u] = cv_92; }
      }
    }
  }
  if (wg_0 >= 2u && wg_0 < 3u) {
    let part_93 = wg_0 - 2u;
    let wx_94 = 0u;
    let wy_95 = 0u;
    let wz_96 = part_93;
    let opaque_97 = wx_94 >> 31u; // 0 (workgroup ids are < 65536): keeps loop bounds from being constants the driver unrolls
    let n_98 = arrayLength(&buf1) * 4u / 10u;
    let c_99 = lid3.x * 4u;
    let r_100 = lid3.y * 4u;
    var acc_101 = vec4<f32>(0.0);
    var acc_102 = vec4<f32>(0.0);
    var acc_103 = vec4<f32>(0.0);
    var acc_104 = vec4<f32>(0.0);
    let k4_105 = n_98 / 4u * 4u;
    let xr_106 = r_100 + 1u;
    let xr_107 = r_100 + 2u;
    let xr_108 = r_100 + 3u;
    let cc_109 = min(c_99, 9u);
    let cc_110 = min(c_99 + 1u, 9u);
    let cc_111 = min(c_99 + 2u, 9u);
    let cc_112 = min(c_99 + 3u, 9u);
    for (var k_113 = 0u; k_113 < k4_105; k_113 += 4u) {
      let vl_114 = buf6[r_100 * 2u + k_113 / 4u];
      let vl_115 = buf6[xr_106 * 2u + k_113 / 4u];
      let vl_116 = buf6[xr_107 * 2u + k_113 / 4u];
      let vl_117 = buf6[xr_108 * 2u + k_113 / 4u];
      let f_118 = cc_109 * 8u + k_113;
      let i_119 = k_113 % 8u;
      let vl_120 = buf1[f_118 / 8u * 2u + i_119 / 4u];
      let f_121 = cc_110 * 8u + k_113;
      let vl_122 = buf1[f_121 / 8u * 2u + i_119 / 4u];
      let f_123 = cc_111 * 8u + k_113;
      let vl_124 = buf1[f_123 / 8u * 2u + i_119 / 4u];
      let f_125 = cc_112 * 8u + k_113;
      let vl_126 = buf1[f_125 / 8u * 2u + i_119 / 4u];
      let yt_127 = vec4<f32>(vl_120.x, vl_122.x, vl_124.x, vl_126.x);
      let yt_128 = vec4<f32>(vl_120.y, vl_122.y, vl_124.y, vl_126.y);
      let yt_129 = vec4<f32>(vl_120.z, vl_122.z, vl_124.z, vl_126.z);
      let yt_130 = vec4<f32>(vl_120.w, vl_122.w, vl_124.w, vl_126.w);
      acc_101 = acc_101 + vl_114.x * yt_127 + vl_114.y * yt_128 + vl_114.z * yt_129 + vl_114.w * yt_130;
      acc_102 = acc_102 + vl_115.x * yt_127 + vl_115.y * yt_128 + vl_115.z * yt_129 + vl_115.w * yt_130;
      acc_103 = acc_103 + vl_116.x * yt_127 + vl_116.y * yt_128 + vl_116.z * yt_129 + vl_116.w * yt_130;
      acc_104 = acc_104 + vl_117.x * yt_127 + vl_117.y * yt_128 + vl_117.z * yt_129 + vl_117.w * yt_130;
    }
    var accs_131 = array<vec4<f32>, 4>(acc_101, acc_102, acc_103, acc_104);
    for (var r_132 = 0u; r_132 < opaque_97 + 4u; r_132++) {
      let gn_133 = r_100 + r_132;
      for (var i_134 = 0u; i_134 < opaque_97 + 4u; i_134++) {
        let gm_135 = c_99 + i_134;
        let gm_136 = min(gm_135, 9u);
        let i_137 = gm_136 / 5u;
        let i_138 = gm_136 % 5u;
        if (gm_135 < 10u) { buf7[i_137 * 40u + gn_133 * 5u + i_138] = accs_131[r_132][i_134]; }
      }
    }
  }
}
