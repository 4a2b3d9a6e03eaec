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
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_id) lid3: vec3u) {
  let opaque_0 = wid.x >> 31u; // 0 (workgroup ids are < 65536): keeps loop bounds from being constants the driver unrolls
  let n_1 = arrayLength(&buf5) * 4u / 12u;
  let tiles_2 = (n_1 + 7u) / 8u;
  let tile_3 = wid.x + wid.y * nwg.x;
  if (tile_3 >= tiles_2) { return; }
  let c_4 = lid3.x * 4u;
  let cb_5 = min(c_4, 8u);
  var acc_6 = vec4<f32>(0.0);
  var acc_7 = vec4<f32>(0.0);
  var acc_8 = vec4<f32>(0.0);
  var acc_9 = vec4<f32>(0.0);
  var acc_10 = vec4<f32>(0.0);
  var acc_11 = vec4<f32>(0.0);
  var acc_12 = vec4<f32>(0.0);
  var acc_13 = vec4<f32>(0.0);
  var acc_14 = vec4<f32>(0.0);
  let v_15 = buf0[0u].x;
  var sy_16 = vec4<f32>(0.0);
  var qy_17 = vec4<f32>(0.0);
  for (var j_18 = 0u; j_18 < opaque_0 + 8u; j_18 += 4u) {
    let vl_19 = buf0[j_18 / 4u];
    acc_14 = acc_14 + vl_19;
    let y_20 = vl_19 - vec4<f32>(v_15);
    sy_16 = sy_16 + y_20;
    qy_17 = qy_17 + y_20 * y_20;
  }
  let sy_21 = sy_16.x + sy_16.y + sy_16.z + sy_16.w;
  let qy_22 = qy_17.x + qy_17.y + qy_17.z + qy_17.w;
  let t_23 = 0.125 * sy_21;
  let mean_24 = v_15 + t_23;
  let r_25 = max(qy_22 - 2.0 * t_23 * sy_21 + 8.0 * t_23 * t_23, 0.0);
  let xr_26 = min(n_1 - 1u, 1u);
  var acc_27 = vec4<f32>(0.0);
  let v_28 = buf0[xr_26 * 8u / 4u][xr_26 * 8u % 4u];
  var sy_29 = vec4<f32>(0.0);
  var qy_30 = vec4<f32>(0.0);
  for (var j_31 = 0u; j_31 < opaque_0 + 8u; j_31 += 4u) {
    let vl_32 = buf0[xr_26 * 2u + j_31 / 4u];
    acc_27 = acc_27 + vl_32;
    let y_33 = vl_32 - vec4<f32>(v_28);
    sy_29 = sy_29 + y_33;
    qy_30 = qy_30 + y_33 * y_33;
  }
  let sy_34 = sy_29.x + sy_29.y + sy_29.z + sy_29.w;
  let qy_35 = qy_30.x + qy_30.y + qy_30.z + qy_30.w;
  let t_36 = 0.125 * sy_34;
  let mean_37 = v_28 + t_36;
  let r_38 = max(qy_35 - 2.0 * t_36 * sy_34 + 8.0 * t_36 * t_36, 0.0);
  let xr_39 = min(n_1 - 1u, 2u);
  var acc_40 = vec4<f32>(0.0);
  let v_41 = buf0[xr_39 * 8u / 4u][xr_39 * 8u % 4u];
  var sy_42 = vec4<f32>(0.0);
  var qy_43 = vec4<f32>(0.0);
  for (var j_44 = 0u; j_44 < opaque_0 + 8u; j_44 += 4u) {
    let vl_45 = buf0[xr_39 * 2u + j_44 / 4u];
    acc_40 = acc_40 + vl_45;
    let y_46 = vl_45 - vec4<f32>(v_41);
    sy_42 = sy_42 + y_46;
    qy_43 = qy_43 + y_46 * y_46;
  }
  let sy_47 = sy_42.x + sy_42.y + sy_42.z + sy_42.w;
  let qy_48 = qy_43.x + qy_43.y + qy_43.z + qy_43.w;
  let t_49 = 0.125 * sy_47;
  let mean_50 = v_41 + t_49;
  let r_51 = max(qy_48 - 2.0 * t_49 * sy_47 + 8.0 * t_49 * t_49, 0.0);
  let xr_52 = min(n_1 - 1u, 3u);
  var acc_53 = vec4<f32>(0.0);
  let v_54 = buf0[xr_52 * 8u / 4u][xr_52 * 8u % 4u];
  var sy_55 = vec4<f32>(0.0);
  var qy_56 = vec4<f32>(0.0);
  for (var j_57 = 0u; j_57 < opaque_0 + 8u; j_57 += 4u) {
    let vl_58 = buf0[xr_52 * 2u + j_57 / 4u];
    acc_53 = acc_53 + vl_58;
    let y_59 = vl_58 - vec4<f32>(v_54);
    sy_55 = sy_55 + y_59;
    qy_56 = qy_56 + y_59 * y_59;
  }
  let sy_60 = sy_55.x + sy_55.y + sy_55.z + sy_55.w;
  let qy_61 = qy_56.x + qy_56.y + qy_56.z + qy_56.w;
  let t_62 = 0.125 * sy_60;
  let mean_63 = v_54 + t_62;
  let r_64 = max(qy_61 - 2.0 * t_62 * sy_60 + 8.0 * t_62 * t_62, 0.0);
  let xr_65 = min(n_1 - 1u, 4u);
  var acc_66 = vec4<f32>(0.0);
  let v_67 = buf0[xr_65 * 8u / 4u][xr_65 * 8u % 4u];
  var sy_68 = vec4<f32>(0.0);
  var qy_69 = vec4<f32>(0.0);
  for (var j_70 = 0u; j_70 < opaque_0 + 8u; j_70 += 4u) {
    let vl_71 = buf0[xr_65 * 2u + j_70 / 4u];
    acc_66 = acc_66 + vl_71;
    let y_72 = vl_71 - vec4<f32>(v_67);
    sy_68 = sy_68 + y_72;
    qy_69 = qy_69 + y_72 * y_72;
  }
  let sy_73 = sy_68.x + sy_68.y + sy_68.z + sy_68.w;
  let qy_74 = qy_69.x + qy_69.y + qy_69.z + qy_69.w;
  let t_75 = 0.125 * sy_73;
  let mean_76 = v_67 + t_75;
  let r_77 = max(qy_74 - 2.0 * t_75 * sy_73 + 8.0 * t_75 * t_75, 0.0);
  let xr_78 = min(n_1 - 1u, 5u);
  var acc_79 = vec4<f32>(0.0);
  let v_80 = buf0[xr_78 * 8u / 4u][xr_78 * 8u % 4u];
  var sy_81 = vec4<f32>(0.0);
  var qy_82 = vec4<f32>(0.0);
  for (var j_83 = 0u; j_83 < opaque_0 + 8u; j_83 += 4u) {
    let vl_84 = buf0[xr_78 * 2u + j_83 / 4u];
    acc_79 = acc_79 + vl_84;
    let y_85 = vl_84 - vec4<f32>(v_80);
    sy_81 = sy_81 + y_85;
    qy_82 = qy_82 + y_85 * y_85;
  }
  let sy_86 = sy_81.x + sy_81.y + sy_81.z + sy_81.w;
  let qy_87 = qy_82.x + qy_82.y + qy_82.z + qy_82.w;
  let t_88 = 0.125 * sy_86;
  let mean_89 = v_80 + t_88;
  let r_90 = max(qy_87 - 2.0 * t_88 * sy_86 + 8.0 * t_88 * t_88, 0.0);
  let xr_91 = min(n_1 - 1u, 6u);
  var acc_92 = vec4<f32>(0.0);
  let v_93 = buf0[xr_91 * 8u / 4u][xr_91 * 8u % 4u];
  var sy_94 = vec4<f32>(0.0);
  var qy_95 = vec4<f32>(0.0);
  for (var j_96 = 0u; j_96 < opaque_0 + 8u; j_96 += 4u) {
    let vl_97 = buf0[xr_91 * 2u + j_96 / 4u];
    acc_92 = acc_92 + vl_97;
    let y_98 = vl_97 - vec4<f32>(v_93);
    sy_94 = sy_94 + y_98;
    qy_95 = qy_95 + y_98 * y_98;
  }
  let sy_99 = sy_94.x + sy_94.y + sy_94.z + sy_94.w;
  let qy_100 = qy_95.x + qy_95.y + qy_95.z + qy_95.w;
  let t_101 = 0.125 * sy_99;
  let mean_102 = v_93 + t_101;
  let r_103 = max(qy_100 - 2.0 * t_101 * sy_99 + 8.0 * t_101 * t_101, 0.0);
  let xr_104 = min(n_1 - 1u, 7u);
  var acc_105 = vec4<f32>(0.0);
  let v_106 = buf0[xr_104 * 8u / 4u][xr_104 * 8u % 4u];
  var sy_107 = vec4<f32>(0.0);
  var qy_108 = vec4<f32>(0.0);
  for (var j_109 = 0u; j_109 < opaque_0 + 8u; j_109 += 4u) {
    let vl_110 = buf0[xr_104 * 2u + j_109 / 4u];
    acc_105 = acc_105 + vl_110;
    let y_111 = vl_110 - vec4<f32>(v_106);
    sy_107 = sy_107 + y_111;
    qy_108 = qy_108 + y_111 * y_111;
  }
  let sy_112 = sy_107.x + sy_107.y + sy_107.z + sy_107.w;
  let qy_113 = qy_108.x + qy_108.y + qy_108.z + qy_108.w;
  let t_114 = 0.125 * sy_112;
  let mean_115 = v_106 + t_114;
  let r_116 = max(qy_113 - 2.0 * t_114 * sy_112 + 8.0 * t_114 * t_114, 0.0);
  let vs_117 = vec4<f32>(mean_24);
  let v_118 = r_25 * 0.125;
  let v_119 = v_118 + 0.000001;
  let v_120 = inverseSqrt(v_119);
  let vs_121 = vec4<f32>(v_120);
  let vs_122 = vec4<f32>(mean_37);
  let v_123 = r_38 * 0.125;
  let v_124 = v_123 + 0.000001;
  let v_125 = inverseSqrt(v_124);
  let vs_126 = vec4<f32>(v_125);
  let vs_127 = vec4<f32>(mean_50);
  let v_128 = r_51 * 0.125;
  let v_129 = v_128 + 0.000001;
  let v_130 = inverseSqrt(v_129);
  let vs_131 = vec4<f32>(v_130);
  let vs_132 = vec4<f32>(mean_63);
  let v_133 = r_64 * 0.125;
  let v_134 = v_133 + 0.000001;
  let v_135 = inverseSqrt(v_134);
  let vs_136 = vec4<f32>(v_135);
  let vs_137 = vec4<f32>(mean_76);
  let v_138 = r_77 * 0.125;
  let v_139 = v_138 + 0.000001;
  let v_140 = inverseSqrt(v_139);
  let vs_141 = vec4<f32>(v_140);
  let vs_142 = vec4<f32>(mean_89);
  let v_143 = r_90 * 0.125;
  let v_144 = v_143 + 0.000001;
  let v_145 = inverseSqrt(v_144);
  let vs_146 = vec4<f32>(v_145);
  let vs_147 = vec4<f32>(mean_102);
  let v_148 = r_103 * 0.125;
  let v_149 = v_148 + 0.000001;
  let v_150 = inverseSqrt(v_149);
  let vs_151 = vec4<f32>(v_150);
  let vs_152 = vec4<f32>(mean_115);
  let v_153 = r_116 * 0.125;
  let v_154 = v_153 + 0.000001;
  let v_155 = inverseSqrt(v_154);
  let vs_156 = vec4<f32>(v_155);
  let cc_157 = min(c_4, 11u);
  let cc_158 = min(c_4 + 1u, 11u);
  let cc_159 = min(c_4 + 2u, 11u);
  let cc_160 = min(c_4 + 3u, 11u);
  for (var k_161 = 0u; k_161 < opaque_0 + 8u; k_161 += 4u) {
    let vl_162 = buf0[k_161 / 4u];
    let vv_163 = vl_162 - vs_117;
    let vv_164 = vv_163 * vs_121;
    let vl_165 = buf1[k_161 / 4u];
    let vv_166 = vv_164 * vl_165;
    let vl_167 = buf2[k_161 / 4u];
    let vv_168 = vv_166 + vl_167;
    let vl_169 = buf0[xr_26 * 2u + k_161 / 4u];
    let vv_170 = vl_169 - vs_122;
    let vv_171 = vv_170 * vs_126;
    let vv_172 = vv_171 * vl_165;
    let vv_173 = vv_172 + vl_167;
    let vl_174 = buf0[xr_39 * 2u + k_161 / 4u];
    let vv_175 = vl_174 - vs_127;
    let vv_176 = vv_175 * vs_131;
    let vv_177 = vv_176 * vl_165;
    let vv_178 = vv_177 + vl_167;
    let vl_179 = buf0[xr_52 * 2u + k_161 / 4u];
    let vv_180 = vl_179 - vs_132;
    let vv_181 = vv_180 * vs_136;
    let vv_182 = vv_181 * vl_165;
    let vv_183 = vv_182 + vl_167;
    let vl_184 = buf0[xr_65 * 2u + k_161 / 4u];
    let vv_185 = vl_184 - vs_137;
    let vv_186 = vv_185 * vs_141;
    let vv_187 = vv_186 * vl_165;
    let vv_188 = vv_187 + vl_167;
    let vl_189 = buf0[xr_78 * 2u + k_161 / 4u];
    let vv_190 = vl_189 - vs_142;
    let vv_191 = vv_190 * vs_146;
    let vv_192 = vv_191 * vl_165;
    let vv_193 = vv_192 + vl_167;
    let vl_194 = buf0[xr_91 * 2u + k_161 / 4u];
    let vv_195 = vl_194 - vs_147;
    let vv_196 = vv_195 * vs_151;
    let vv_197 = vv_196 * vl_165;
    let vv_198 = vv_197 + vl_167;
    let vl_199 = buf0[xr_104 * 2u + k_161 / 4u];
    let vv_200 = vl_199 - vs_152;
    let vv_201 = vv_200 * vs_156;
    let vv_202 = vv_201 * vl_165;
    let vv_203 = vv_202 + vl_167;
    let vl_204 = buf3[cc_157 * 2u + k_161 / 4u];
    let vl_205 = buf3[cc_158 * 2u + k_161 / 4u];
    let vl_206 = buf3[cc_159 * 2u + k_161 / 4u];
    let vl_207 = buf3[cc_160 * 2u + k_161 / 4u];
    let yt_208 = vec4<f32>(vl_204.x, vl_205.x, vl_206.x, vl_207.x);
    let yt_209 = vec4<f32>(vl_204.y, vl_205.y, vl_206.y, vl_207.y);
    let yt_210 = vec4<f32>(vl_204.z, vl_205.z, vl_206.z, vl_207.z);
    let yt_211 = vec4<f32>(vl_204.w, vl_205.w, vl_206.w, vl_207.w);
    acc_6 = acc_6 + vv_168.x * yt_208 + vv_168.y * yt_209 + vv_168.z * yt_210 + vv_168.w * yt_211;
    acc_7 = acc_7 + vv_173.x * yt_208 + vv_173.y * yt_209 + vv_173.z * yt_210 + vv_173.w * yt_211;
    acc_8 = acc_8 + vv_178.x * yt_208 + vv_178.y * yt_209 + vv_178.z * yt_210 + vv_178.w * yt_211;
    acc_9 = acc_9 + vv_183.x * yt_208 + vv_183.y * yt_209 + vv_183.z * yt_210 + vv_183.w * yt_211;
    acc_10 = acc_10 + vv_188.x * yt_208 + vv_188.y * yt_209 + vv_188.z * yt_210 + vv_188.w * yt_211;
    acc_11 = acc_11 + vv_193.x * yt_208 + vv_193.y * yt_209 + vv_193.z * yt_210 + vv_193.w * yt_211;
    acc_12 = acc_12 + vv_198.x * yt_208 + vv_198.y * yt_209 + vv_198.z * yt_210 + vv_198.w * yt_211;
    acc_13 = acc_13 + vv_203.x * yt_208 + vv_203.y * yt_209 + vv_203.z * yt_210 + vv_203.w * yt_211;
  }
  var accs_212 = array<vec4<f32>, 8>(acc_6, acc_7, acc_8, acc_9, acc_10, acc_11, acc_12, acc_13);
  let vl_213 = buf4[cb_5 / 4u];
  for (var r_214 = 0u; r_214 < opaque_0 + 8u; r_214++) {
    let gm_215 = min(r_214, n_1 - 1u);
    let f_216 = gm_215 * 12u + cb_5;
    let vv_217 = accs_212[r_214] + vl_213;
    let vv_218 = vv_217 * vec4<f32>(0.7071067811865476);
    let vv_219 = vec4<f32>(erf_f32(vv_218.x), erf_f32(vv_218.y), erf_f32(vv_218.z), erf_f32(vv_218.w));
    let vv_220 = vv_219 + vec4<f32>(1.0);
    let vv_221 = vv_217 * vv_220;
    let vv_222 = vv_221 * vec4<f32>(0.5);
    if (r_214 < n_1 && c_4 < 12u) { buf5[f_216 / 4u] = vv_222; }
  }
}
