// k000_matmul_sub_mul_add_rsqrt_6more_6x12: matmul kernel, vec4 r8 wg8x1 x:k y:k store4; workgroup 8x1x1, dispatch 1x1x1
//   binding 0 buf0 (read): %0 input "x" f32[2,3,8]
//   binding 1 buf1 (read): %1 param "ln.weight" f32[8]
//   binding 2 buf2 (read): %2 param "ln.bias" f32[8]
//   binding 3 buf3 (read): %17 param "fc1.weight" f32[12,8]
//   binding 4 buf4 (read): %18 param "fc1.bias" f32[12]
//   binding 5 buf5 (read/write): %34 reshape f32[6,12]
fn erf_f32(x: f32) -> f32 {
  let a = abs(x);
  let t = 1.0 / (1.0 + 0.3275911 * a);
  let poly = t * (0.254829592 + t * (-0.284496736 + t * (1.421413741 + t * (-1.453152027 + t * 1.061405429))));
  return sign(x) * (1.0 - poly * exp(-a * a));
}
@group(0) @binding(0) var<storage, read> buf0: array<vec4<f32>>;
@group(0) @binding(1) var<storage, read> buf1: array<vec4<f32>>;
@group(0) @binding(2) var<storage, read> buf2: array<vec4<f32>>;
@group(0) @binding(3) var<storage, read> buf3: array<vec4<f32>>;
@group(0) @binding(4) var<storage, read> buf4: array<vec4<f32>>;
@group(0) @binding(5) var<storage, read_write> buf5: array<vec4<f32>>;

@compute @workgroup_size(8, 1, 1)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_id) lid3: vec3u) {
  let opaque_0 = wid.x >> 31u; // 0 (workgroup ids are < 65536): keeps loop bounds from being constants the driver unrolls
  let c_1 = lid3.x * 4u;
  let cb_2 = min(c_1, 8u);
  var acc_3 = vec4<f32>(0.0);
  var acc_4 = vec4<f32>(0.0);
  var acc_5 = vec4<f32>(0.0);
  var acc_6 = vec4<f32>(0.0);
  var acc_7 = vec4<f32>(0.0);
  var acc_8 = vec4<f32>(0.0);
  var acc_9 = vec4<f32>(0.0);
  var acc_10 = vec4<f32>(0.0);
  var acc_11 = vec4<f32>(0.0);
  let v_12 = buf0[0u].x;
  var sy_13 = vec4<f32>(0.0);
  var qy_14 = vec4<f32>(0.0);
  for (var j_15 = 0u; j_15 < opaque_0 + 8u; j_15 += 4u) {
    let vl_16 = buf0[j_15 / 4u];
    acc_11 = acc_11 + vl_16;
    let y_17 = vl_16 - vec4<f32>(v_12);
    sy_13 = sy_13 + y_17;
    qy_14 = qy_14 + y_17 * y_17;
  }
  let sy_18 = sy_13.x + sy_13.y + sy_13.z + sy_13.w;
  let qy_19 = qy_14.x + qy_14.y + qy_14.z + qy_14.w;
  let t_20 = 0.125 * sy_18;
  let mean_21 = v_12 + t_20;
  let r_22 = max(qy_19 - 2.0 * t_20 * sy_18 + 8.0 * t_20 * t_20, 0.0);
  var acc_23 = vec4<f32>(0.0);
  let v_24 = buf0[2u].x;
  var sy_25 = vec4<f32>(0.0);
  var qy_26 = vec4<f32>(0.0);
  for (var j_27 = 0u; j_27 < opaque_0 + 8u; j_27 += 4u) {
    let vl_28 = buf0[j_27 / 4u + 2u];
    acc_23 = acc_23 + vl_28;
    let y_29 = vl_28 - vec4<f32>(v_24);
    sy_25 = sy_25 + y_29;
    qy_26 = qy_26 + y_29 * y_29;
  }
  let sy_30 = sy_25.x + sy_25.y + sy_25.z + sy_25.w;
  let qy_31 = qy_26.x + qy_26.y + qy_26.z + qy_26.w;
  let t_32 = 0.125 * sy_30;
  let mean_33 = v_24 + t_32;
  let r_34 = max(qy_31 - 2.0 * t_32 * sy_30 + 8.0 * t_32 * t_32, 0.0);
  var acc_35 = vec4<f32>(0.0);
  let v_36 = buf0[4u].x;
  var sy_37 = vec4<f32>(0.0);
  var qy_38 = vec4<f32>(0.0);
  for (var j_39 = 0u; j_39 < opaque_0 + 8u; j_39 += 4u) {
    let vl_40 = buf0[j_39 / 4u + 4u];
    acc_35 = acc_35 + vl_40;
    let y_41 = vl_40 - vec4<f32>(v_36);
    sy_37 = sy_37 + y_41;
    qy_38 = qy_38 + y_41 * y_41;
  }
  let sy_42 = sy_37.x + sy_37.y + sy_37.z + sy_37.w;
  let qy_43 = qy_38.x + qy_38.y + qy_38.z + qy_38.w;
  let t_44 = 0.125 * sy_42;
  let mean_45 = v_36 + t_44;
  let r_46 = max(qy_43 - 2.0 * t_44 * sy_42 + 8.0 * t_44 * t_44, 0.0);
  var acc_47 = vec4<f32>(0.0);
  let v_48 = buf0[6u].x;
  var sy_49 = vec4<f32>(0.0);
  var qy_50 = vec4<f32>(0.0);
  for (var j_51 = 0u; j_51 < opaque_0 + 8u; j_51 += 4u) {
    let vl_52 = buf0[j_51 / 4u + 6u];
    acc_47 = acc_47 + vl_52;
    let y_53 = vl_52 - vec4<f32>(v_48);
    sy_49 = sy_49 + y_53;
    qy_50 = qy_50 + y_53 * y_53;
  }
  let sy_54 = sy_49.x + sy_49.y + sy_49.z + sy_49.w;
  let qy_55 = qy_50.x + qy_50.y + qy_50.z + qy_50.w;
  let t_56 = 0.125 * sy_54;
  let mean_57 = v_48 + t_56;
  let r_58 = max(qy_55 - 2.0 * t_56 * sy_54 + 8.0 * t_56 * t_56, 0.0);
  var acc_59 = vec4<f32>(0.0);
  let v_60 = buf0[8u].x;
  var sy_61 = vec4<f32>(0.0);
  var qy_62 = vec4<f32>(0.0);
  for (var j_63 = 0u; j_63 < opaque_0 + 8u; j_63 += 4u) {
    let vl_64 = buf0[j_63 / 4u + 8u];
    acc_59 = acc_59 + vl_64;
    let y_65 = vl_64 - vec4<f32>(v_60);
    sy_61 = sy_61 + y_65;
    qy_62 = qy_62 + y_65 * y_65;
  }
  let sy_66 = sy_61.x + sy_61.y + sy_61.z + sy_61.w;
  let qy_67 = qy_62.x + qy_62.y + qy_62.z + qy_62.w;
  let t_68 = 0.125 * sy_66;
  let mean_69 = v_60 + t_68;
  let r_70 = max(qy_67 - 2.0 * t_68 * sy_66 + 8.0 * t_68 * t_68, 0.0);
  var acc_71 = vec4<f32>(0.0);
  let v_72 = buf0[10u].x;
  var sy_73 = vec4<f32>(0.0);
  var qy_74 = vec4<f32>(0.0);
  for (var j_75 = 0u; j_75 < opaque_0 + 8u; j_75 += 4u) {
    let vl_76 = buf0[j_75 / 4u + 10u];
    acc_71 = acc_71 + vl_76;
    let y_77 = vl_76 - vec4<f32>(v_72);
    sy_73 = sy_73 + y_77;
    qy_74 = qy_74 + y_77 * y_77;
  }
  var acc_78 = vec4<f32>(0.0);
  var sy_79 = vec4<f32>(0.0);
  var qy_80 = vec4<f32>(0.0);
  for (var j_81 = 0u; j_81 < opaque_0 + 8u; j_81 += 4u) {
    let vl_82 = buf0[j_81 / 4u + 10u];
    acc_78 = acc_78 + vl_82;
    let y_83 = vl_82 - vec4<f32>(v_72);
    sy_79 = sy_79 + y_83;
    qy_80 = qy_80 + y_83 * y_83;
  }
  var acc_84 = vec4<f32>(0.0);
  var sy_85 = vec4<f32>(0.0);
  var qy_86 = vec4<f32>(0.0);
  for (var j_87 = 0u; j_87 < opaque_0 + 8u; j_87 += 4u) {
    let vl_88 = buf0[j_87 / 4u + 10u];
    acc_84 = acc_84 + vl_88;
    let y_89 = vl_88 - vec4<f32>(v_72);
    sy_85 = sy_85 + y_89;
    qy_86 = qy_86 + y_89 * y_89;
  }
  let sy_90 = sy_85.x + sy_85.y + sy_85.z + sy_85.w;
  let qy_91 = qy_86.x + qy_86.y + qy_86.z + qy_86.w;
  let t_92 = 0.125 * sy_90;
  let mean_93 = v_72 + t_92;
  let r_94 = max(qy_91 - 2.0 * t_92 * sy_90 + 8.0 * t_92 * t_92, 0.0);
  let vs_95 = vec4<f32>(mean_21);
  let v_96 = r_22 * 0.125;
  let v_97 = v_96 + 0.000001;
  let v_98 = inverseSqrt(v_97);
  let vs_99 = vec4<f32>(v_98);
  let vs_100 = vec4<f32>(mean_33);
  let v_101 = r_34 * 0.125;
  let v_102 = v_101 + 0.000001;
  let v_103 = inverseSqrt(v_102);
  let vs_104 = vec4<f32>(v_103);
  let vs_105 = vec4<f32>(mean_45);
  let v_106 = r_46 * 0.125;
  let v_107 = v_106 + 0.000001;
  let v_108 = inverseSqrt(v_107);
  let vs_109 = vec4<f32>(v_108);
  let vs_110 = vec4<f32>(mean_57);
  let v_111 = r_58 * 0.125;
  let v_112 = v_111 + 0.000001;
  let v_113 = inverseSqrt(v_112);
  let vs_114 = vec4<f32>(v_113);
  let vs_115 = vec4<f32>(mean_69);
  let v_116 = r_70 * 0.125;
  let v_117 = v_116 + 0.000001;
  let v_118 = inverseSqrt(v_117);
  let vs_119 = vec4<f32>(v_118);
  let vs_120 = vec4<f32>(mean_93);
  let v_121 = r_94 * 0.125;
  let v_122 = v_121 + 0.000001;
  let v_123 = inverseSqrt(v_122);
  let vs_124 = vec4<f32>(v_123);
  let cc_125 = min(c_1, 11u);
  let cc_126 = min(c_1 + 1u, 11u);
  let cc_127 = min(c_1 + 2u, 11u);
  let cc_128 = min(c_1 + 3u, 11u);
  for (var k_129 = 0u; k_129 < opaque_0 + 8u; k_129 += 4u) {
    let vl_130 = buf0[k_129 / 4u];
    let vv_131 = vl_130 - vs_95;
    let vv_132 = vv_131 * vs_99;
    let vl_133 = buf1[k_129 / 4u];
    let vv_134 = vv_132 * vl_133;
    let vl_135 = buf2[k_129 / 4u];
    let vv_136 = vv_134 + vl_135;
    let vl_137 = buf0[k_129 / 4u + 2u];
    let vv_138 = vl_137 - vs_100;
    let vv_139 = vv_138 * vs_104;
    let vv_140 = vv_139 * vl_133;
    let vv_141 = vv_140 + vl_135;
    let vl_142 = buf0[k_129 / 4u + 4u];
    let vv_143 = vl_142 - vs_105;
    let vv_144 = vv_143 * vs_109;
    let vv_145 = vv_144 * vl_133;
    let vv_146 = vv_145 + vl_135;
    let vl_147 = buf0[k_129 / 4u + 6u];
    let vv_148 = vl_147 - vs_110;
    let vv_149 = vv_148 * vs_114;
    let vv_150 = vv_149 * vl_133;
    let vv_151 = vv_150 + vl_135;
    let vl_152 = buf0[k_129 / 4u + 8u];
    let vv_153 = vl_152 - vs_115;
    let vv_154 = vv_153 * vs_119;
    let vv_155 = vv_154 * vl_133;
    let vv_156 = vv_155 + vl_135;
    let vl_157 = buf0[k_129 / 4u + 10u];
    let vv_158 = vl_157 - vs_120;
    let vv_159 = vv_158 * vs_124;
    let vv_160 = vv_159 * vl_133;
    let vv_161 = vv_160 + vl_135;
    let vl_162 = buf3[cc_125 * 2u + k_129 / 4u];
    let vl_163 = buf3[cc_126 * 2u + k_129 / 4u];
    let vl_164 = buf3[cc_127 * 2u + k_129 / 4u];
    let vl_165 = buf3[cc_128 * 2u + k_129 / 4u];
    let yt_166 = vec4<f32>(vl_162.x, vl_163.x, vl_164.x, vl_165.x);
    let yt_167 = vec4<f32>(vl_162.y, vl_163.y, vl_164.y, vl_165.y);
    let yt_168 = vec4<f32>(vl_162.z, vl_163.z, vl_164.z, vl_165.z);
    let yt_169 = vec4<f32>(vl_162.w, vl_163.w, vl_164.w, vl_165.w);
    acc_3 = acc_3 + vv_136.x * yt_166 + vv_136.y * yt_167 + vv_136.z * yt_168 + vv_136.w * yt_169;
    acc_4 = acc_4 + vv_141.x * yt_166 + vv_141.y * yt_167 + vv_141.z * yt_168 + vv_141.w * yt_169;
    acc_5 = acc_5 + vv_146.x * yt_166 + vv_146.y * yt_167 + vv_146.z * yt_168 + vv_146.w * yt_169;
    acc_6 = acc_6 + vv_151.x * yt_166 + vv_151.y * yt_167 + vv_151.z * yt_168 + vv_151.w * yt_169;
    acc_7 = acc_7 + vv_156.x * yt_166 + vv_156.y * yt_167 + vv_156.z * yt_168 + vv_156.w * yt_169;
    acc_8 = acc_8 + vv_161.x * yt_166 + vv_161.y * yt_167 + vv_161.z * yt_168 + vv_161.w * yt_169;
    acc_9 = acc_9 + vv_161.x * yt_166 + vv_161.y * yt_167 + vv_161.z * yt_168 + vv_161.w * yt_169;
    acc_10 = acc_10 + vv_161.x * yt_166 + vv_161.y * yt_167 + vv_161.z * yt_168 + vv_161.w * yt_169;
  }
  var accs_170 = array<vec4<f32>, 8>(acc_3, acc_4, acc_5, acc_6, acc_7, acc_8, acc_9, acc_10);
  let vl_171 = buf4[cb_2 / 4u];
  for (var r_172 = 0u; r_172 < opaque_0 + 8u; r_172++) {
    let gm_173 = min(r_172, 5u);
    let f_174 = gm_173 * 12u + cb_2;
    let vv_175 = accs_170[r_172] + vl_171;
    let vv_176 = vv_175 * vec4<f32>(0.7071067811865476);
    let vv_177 = vec4<f32>(erf_f32(vv_176.x), erf_f32(vv_176.y), erf_f32(vv_176.z), erf_f32(vv_176.w));
    let vv_178 = vv_177 + vec4<f32>(1.0);
    let vv_179 = vv_175 * vv_178;
    let vv_180 = vv_179 * vec4<f32>(0.5);
    if (r_172 < 6u && c_1 < 12u) { buf5[f_174 / 4u] = vv_180; }
  }
}
