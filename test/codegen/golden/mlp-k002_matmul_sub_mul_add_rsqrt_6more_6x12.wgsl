// k002_matmul_sub_mul_add_rsqrt_6more_6x12: matmul kernel, vec4 r8 wg8x1 x:k y:cols store4; workgroup 8x1x1, dispatch 1x1x1
//   binding 0 buf0 (read): %0 input "x" f32[2,3,8]
//   binding 1 buf1 (read/write): %19 mul f32[8,12]
//   binding 2 buf2 (read/write): %22 reshape f32[12]
//   binding 3 buf3 (read): %16 param "fc1.bias" f32[12]
//   binding 4 buf4 (read/write): %38 reshape f32[6,12]
fn erf_f32(x: f32) -> f32 {
  let a = abs(x);
  let t = 1.0 / (1.0 + 0.3275911 * a);
  let poly = t * (0.254829592 + t * (-0.284496736 + t * (1.421413741 + t * (-1.453152027 + t * 1.061405429))));
  return sign(x) * (1.0 - poly * exp(-a * a));
}
@group(0) @binding(0) var<storage, read> buf0: array<vec4<f32>>;
@group(0) @binding(1) var<storage, read_write> buf1: array<vec4<f32>>;
@group(0) @binding(2) var<storage, read_write> buf2: array<vec4<f32>>;
@group(0) @binding(3) var<storage, read> buf3: array<vec4<f32>>;
@group(0) @binding(4) var<storage, read_write> buf4: array<vec4<f32>>;

@compute @workgroup_size(8, 1, 1)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_id) lid3: vec3u) {
  let opaque_0 = wid.x >> 31u; // 0 (workgroup ids are < 65536): keeps loop bounds from being constants the driver unrolls
  let n_1 = arrayLength(&buf4) * 4u / 12u;
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
  let v_14 = buf0[0u].x;
  var sy_15 = vec4<f32>(0.0);
  var qy_16 = vec4<f32>(0.0);
  for (var j_17 = 0u; j_17 < opaque_0 + 8u; j_17 += 4u) {
    let vl_18 = buf0[j_17 / 4u];
    let y_19 = vl_18 - vec4<f32>(v_14);
    sy_15 = sy_15 + y_19;
    qy_16 = qy_16 + y_19 * y_19;
  }
  let sy_20 = sy_15.x + sy_15.y + sy_15.z + sy_15.w;
  let qy_21 = qy_16.x + qy_16.y + qy_16.z + qy_16.w;
  let t_22 = 0.125 * sy_20;
  let mean_23 = v_14 + t_22;
  let r_24 = max(qy_21 - 2.0 * t_22 * sy_20 + 8.0 * t_22 * t_22, 0.0);
  let xr_25 = min(n_1 - 1u, 1u);
  let v_26 = buf0[xr_25 * 8u / 4u][xr_25 * 8u % 4u];
  var sy_27 = vec4<f32>(0.0);
  var qy_28 = vec4<f32>(0.0);
  for (var j_29 = 0u; j_29 < opaque_0 + 8u; j_29 += 4u) {
    let vl_30 = buf0[xr_25 * 2u + j_29 / 4u];
    let y_31 = vl_30 - vec4<f32>(v_26);
    sy_27 = sy_27 + y_31;
    qy_28 = qy_28 + y_31 * y_31;
  }
  let sy_32 = sy_27.x + sy_27.y + sy_27.z + sy_27.w;
  let qy_33 = qy_28.x + qy_28.y + qy_28.z + qy_28.w;
  let t_34 = 0.125 * sy_32;
  let mean_35 = v_26 + t_34;
  let r_36 = max(qy_33 - 2.0 * t_34 * sy_32 + 8.0 * t_34 * t_34, 0.0);
  let xr_37 = min(n_1 - 1u, 2u);
  let v_38 = buf0[xr_37 * 8u / 4u][xr_37 * 8u % 4u];
  var sy_39 = vec4<f32>(0.0);
  var qy_40 = vec4<f32>(0.0);
  for (var j_41 = 0u; j_41 < opaque_0 + 8u; j_41 += 4u) {
    let vl_42 = buf0[xr_37 * 2u + j_41 / 4u];
    let y_43 = vl_42 - vec4<f32>(v_38);
    sy_39 = sy_39 + y_43;
    qy_40 = qy_40 + y_43 * y_43;
  }
  let sy_44 = sy_39.x + sy_39.y + sy_39.z + sy_39.w;
  let qy_45 = qy_40.x + qy_40.y + qy_40.z + qy_40.w;
  let t_46 = 0.125 * sy_44;
  let mean_47 = v_38 + t_46;
  let r_48 = max(qy_45 - 2.0 * t_46 * sy_44 + 8.0 * t_46 * t_46, 0.0);
  let xr_49 = min(n_1 - 1u, 3u);
  let v_50 = buf0[xr_49 * 8u / 4u][xr_49 * 8u % 4u];
  var sy_51 = vec4<f32>(0.0);
  var qy_52 = vec4<f32>(0.0);
  for (var j_53 = 0u; j_53 < opaque_0 + 8u; j_53 += 4u) {
    let vl_54 = buf0[xr_49 * 2u + j_53 / 4u];
    let y_55 = vl_54 - vec4<f32>(v_50);
    sy_51 = sy_51 + y_55;
    qy_52 = qy_52 + y_55 * y_55;
  }
  let sy_56 = sy_51.x + sy_51.y + sy_51.z + sy_51.w;
  let qy_57 = qy_52.x + qy_52.y + qy_52.z + qy_52.w;
  let t_58 = 0.125 * sy_56;
  let mean_59 = v_50 + t_58;
  let r_60 = max(qy_57 - 2.0 * t_58 * sy_56 + 8.0 * t_58 * t_58, 0.0);
  let xr_61 = min(n_1 - 1u, 4u);
  let v_62 = buf0[xr_61 * 8u / 4u][xr_61 * 8u % 4u];
  var sy_63 = vec4<f32>(0.0);
  var qy_64 = vec4<f32>(0.0);
  for (var j_65 = 0u; j_65 < opaque_0 + 8u; j_65 += 4u) {
    let vl_66 = buf0[xr_61 * 2u + j_65 / 4u];
    let y_67 = vl_66 - vec4<f32>(v_62);
    sy_63 = sy_63 + y_67;
    qy_64 = qy_64 + y_67 * y_67;
  }
  let sy_68 = sy_63.x + sy_63.y + sy_63.z + sy_63.w;
  let qy_69 = qy_64.x + qy_64.y + qy_64.z + qy_64.w;
  let t_70 = 0.125 * sy_68;
  let mean_71 = v_62 + t_70;
  let r_72 = max(qy_69 - 2.0 * t_70 * sy_68 + 8.0 * t_70 * t_70, 0.0);
  let xr_73 = min(n_1 - 1u, 5u);
  let v_74 = buf0[xr_73 * 8u / 4u][xr_73 * 8u % 4u];
  var sy_75 = vec4<f32>(0.0);
  var qy_76 = vec4<f32>(0.0);
  for (var j_77 = 0u; j_77 < opaque_0 + 8u; j_77 += 4u) {
    let vl_78 = buf0[xr_73 * 2u + j_77 / 4u];
    let y_79 = vl_78 - vec4<f32>(v_74);
    sy_75 = sy_75 + y_79;
    qy_76 = qy_76 + y_79 * y_79;
  }
  let sy_80 = sy_75.x + sy_75.y + sy_75.z + sy_75.w;
  let qy_81 = qy_76.x + qy_76.y + qy_76.z + qy_76.w;
  let t_82 = 0.125 * sy_80;
  let mean_83 = v_74 + t_82;
  let r_84 = max(qy_81 - 2.0 * t_82 * sy_80 + 8.0 * t_82 * t_82, 0.0);
  let xr_85 = min(n_1 - 1u, 6u);
  let v_86 = buf0[xr_85 * 8u / 4u][xr_85 * 8u % 4u];
  var sy_87 = vec4<f32>(0.0);
  var qy_88 = vec4<f32>(0.0);
  for (var j_89 = 0u; j_89 < opaque_0 + 8u; j_89 += 4u) {
    let vl_90 = buf0[xr_85 * 2u + j_89 / 4u];
    let y_91 = vl_90 - vec4<f32>(v_86);
    sy_87 = sy_87 + y_91;
    qy_88 = qy_88 + y_91 * y_91;
  }
  let sy_92 = sy_87.x + sy_87.y + sy_87.z + sy_87.w;
  let qy_93 = qy_88.x + qy_88.y + qy_88.z + qy_88.w;
  let t_94 = 0.125 * sy_92;
  let mean_95 = v_86 + t_94;
  let r_96 = max(qy_93 - 2.0 * t_94 * sy_92 + 8.0 * t_94 * t_94, 0.0);
  let xr_97 = min(n_1 - 1u, 7u);
  let v_98 = buf0[xr_97 * 8u / 4u][xr_97 * 8u % 4u];
  var sy_99 = vec4<f32>(0.0);
  var qy_100 = vec4<f32>(0.0);
  for (var j_101 = 0u; j_101 < opaque_0 + 8u; j_101 += 4u) {
    let vl_102 = buf0[xr_97 * 2u + j_101 / 4u];
    let y_103 = vl_102 - vec4<f32>(v_98);
    sy_99 = sy_99 + y_103;
    qy_100 = qy_100 + y_103 * y_103;
  }
  let sy_104 = sy_99.x + sy_99.y + sy_99.z + sy_99.w;
  let qy_105 = qy_100.x + qy_100.y + qy_100.z + qy_100.w;
  let t_106 = 0.125 * sy_104;
  let mean_107 = v_98 + t_106;
  let r_108 = max(qy_105 - 2.0 * t_106 * sy_104 + 8.0 * t_106 * t_106, 0.0);
  let vs_109 = vec4<f32>(mean_23);
  let v_110 = r_24 * 0.125;
  let v_111 = v_110 + 0.000001;
  let v_112 = inverseSqrt(v_111);
  let vs_113 = vec4<f32>(v_112);
  let vs_114 = vec4<f32>(mean_35);
  let v_115 = r_36 * 0.125;
  let v_116 = v_115 + 0.000001;
  let v_117 = inverseSqrt(v_116);
  let vs_118 = vec4<f32>(v_117);
  let vs_119 = vec4<f32>(mean_47);
  let v_120 = r_48 * 0.125;
  let v_121 = v_120 + 0.000001;
  let v_122 = inverseSqrt(v_121);
  let vs_123 = vec4<f32>(v_122);
  let vs_124 = vec4<f32>(mean_59);
  let v_125 = r_60 * 0.125;
  let v_126 = v_125 + 0.000001;
  let v_127 = inverseSqrt(v_126);
  let vs_128 = vec4<f32>(v_127);
  let vs_129 = vec4<f32>(mean_71);
  let v_130 = r_72 * 0.125;
  let v_131 = v_130 + 0.000001;
  let v_132 = inverseSqrt(v_131);
  let vs_133 = vec4<f32>(v_132);
  let vs_134 = vec4<f32>(mean_83);
  let v_135 = r_84 * 0.125;
  let v_136 = v_135 + 0.000001;
  let v_137 = inverseSqrt(v_136);
  let vs_138 = vec4<f32>(v_137);
  let vs_139 = vec4<f32>(mean_95);
  let v_140 = r_96 * 0.125;
  let v_141 = v_140 + 0.000001;
  let v_142 = inverseSqrt(v_141);
  let vs_143 = vec4<f32>(v_142);
  let vs_144 = vec4<f32>(mean_107);
  let v_145 = r_108 * 0.125;
  let v_146 = v_145 + 0.000001;
  let v_147 = inverseSqrt(v_146);
  let vs_148 = vec4<f32>(v_147);
  for (var k_149 = 0u; k_149 < opaque_0 + 8u; k_149 += 4u) {
    let vl_150 = buf0[k_149 / 4u];
    let vv_151 = vl_150 - vs_109;
    let vv_152 = vv_151 * vs_113;
    let vl_153 = buf0[xr_25 * 2u + k_149 / 4u];
    let vv_154 = vl_153 - vs_114;
    let vv_155 = vv_154 * vs_118;
    let vl_156 = buf0[xr_37 * 2u + k_149 / 4u];
    let vv_157 = vl_156 - vs_119;
    let vv_158 = vv_157 * vs_123;
    let vl_159 = buf0[xr_49 * 2u + k_149 / 4u];
    let vv_160 = vl_159 - vs_124;
    let vv_161 = vv_160 * vs_128;
    let vl_162 = buf0[xr_61 * 2u + k_149 / 4u];
    let vv_163 = vl_162 - vs_129;
    let vv_164 = vv_163 * vs_133;
    let vl_165 = buf0[xr_73 * 2u + k_149 / 4u];
    let vv_166 = vl_165 - vs_134;
    let vv_167 = vv_166 * vs_138;
    let vl_168 = buf0[xr_85 * 2u + k_149 / 4u];
    let vv_169 = vl_168 - vs_139;
    let vv_170 = vv_169 * vs_143;
    let vl_171 = buf0[xr_97 * 2u + k_149 / 4u];
    let vv_172 = vl_171 - vs_144;
    let vv_173 = vv_172 * vs_148;
    let vl_174 = buf1[k_149 * 3u + cb_5 / 4u];
    let yk_175 = k_149 + 1u;
    let vl_176 = buf1[yk_175 * 3u + cb_5 / 4u];
    let yk_177 = k_149 + 2u;
    let vl_178 = buf1[yk_177 * 3u + cb_5 / 4u];
    let yk_179 = k_149 + 3u;
    let vl_180 = buf1[yk_179 * 3u + cb_5 / 4u];
    acc_6 = acc_6 + vv_152.x * vl_174 + vv_152.y * vl_176 + vv_152.z * vl_178 + vv_152.w * vl_180;
    acc_7 = acc_7 + vv_155.x * vl_174 + vv_155.y * vl_176 + vv_155.z * vl_178 + vv_155.w * vl_180;
    acc_8 = acc_8 + vv_158.x * vl_174 + vv_158.y * vl_176 + vv_158.z * vl_178 + vv_158.w * vl_180;
    acc_9 = acc_9 + vv_161.x * vl_174 + vv_161.y * vl_176 + vv_161.z * vl_178 + vv_161.w * vl_180;
    acc_10 = acc_10 + vv_164.x * vl_174 + vv_164.y * vl_176 + vv_164.z * vl_178 + vv_164.w * vl_180;
    acc_11 = acc_11 + vv_167.x * vl_174 + vv_167.y * vl_176 + vv_167.z * vl_178 + vv_167.w * vl_180;
    acc_12 = acc_12 + vv_170.x * vl_174 + vv_170.y * vl_176 + vv_170.z * vl_178 + vv_170.w * vl_180;
    acc_13 = acc_13 + vv_173.x * vl_174 + vv_173.y * vl_176 + vv_173.z * vl_178 + vv_173.w * vl_180;
  }
  var accs_181 = array<vec4<f32>, 8>(acc_6, acc_7, acc_8, acc_9, acc_10, acc_11, acc_12, acc_13);
  let vl_182 = buf2[cb_5 / 4u];
  let vl_183 = buf3[cb_5 / 4u];
  for (var r_184 = 0u; r_184 < opaque_0 + 8u; r_184++) {
    let gm_185 = min(r_184, n_1 - 1u);
    let f_186 = gm_185 * 12u + cb_5;
    let vv_187 = accs_181[r_184] + vl_182;
    let vv_188 = vv_187 + vl_183;
    let vv_189 = vv_188 * vec4<f32>(0.7071067811865476);
    let vv_190 = vec4<f32>(erf_f32(vv_189.x), erf_f32(vv_189.y), erf_f32(vv_189.z), erf_f32(vv_189.w));
    let vv_191 = vv_190 + vec4<f32>(1.0);
    let vv_192 = vv_188 * vv_191;
    let vv_193 = vv_192 * vec4<f32>(0.5);
    if (r_184 < n_1 && c_4 < 12u) { buf4[f_186 / 4u] = vv_193; }
  }
}
