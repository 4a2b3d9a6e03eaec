// k001_matmul_mul_sub_mul_add_7more_6x12: matmul kernel, vec4 r8 wg8x1 x:k y:k store4; workgroup 8x1x1, dispatch 1x1x1
//   binding 0 buf0 (read): %0 input "x" f32[2,3,8]
//   binding 1 buf1 (read/write): %3 sum f32[2,3,1]
//   binding 2 buf2 (read/write): %8 sum f32[2,3,1]
//   binding 3 buf3 (read): %1 param "ln.weight" f32[8]
//   binding 4 buf4 (read): %2 param "ln.bias" f32[8]
//   binding 5 buf5 (read): %17 param "fc1.weight" f32[12,8]
//   binding 6 buf6 (read): %18 param "fc1.bias" f32[12]
//   binding 7 buf7 (read/write): %34 reshape f32[6,12]
fn erf_f32(x: f32) -> f32 {
  let a = abs(x);
  let t = 1.0 / (1.0 + 0.3275911 * a);
  let poly = t * (0.254829592 + t * (-0.284496736 + t * (1.421413741 + t * (-1.453152027 + t * 1.061405429))));
  return sign(x) * (1.0 - poly * exp(-a * a));
}
@group(0) @binding(0) var<storage, read> buf0: array<vec4<f32>>;
@group(0) @binding(1) var<storage, read_write> buf1: array<f32>;
@group(0) @binding(2) var<storage, read_write> buf2: array<f32>;
@group(0) @binding(3) var<storage, read> buf3: array<vec4<f32>>;
@group(0) @binding(4) var<storage, read> buf4: array<vec4<f32>>;
@group(0) @binding(5) var<storage, read> buf5: array<vec4<f32>>;
@group(0) @binding(6) var<storage, read> buf6: array<vec4<f32>>;
@group(0) @binding(7) var<storage, read_write> buf7: array<vec4<f32>>;

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
  let v_11 = buf1[0u];
  let v_12 = v_11 * 0.125;
  let vs_13 = vec4<f32>(v_12);
  let v_14 = buf2[0u];
  let v_15 = v_14 * 0.125;
  let v_16 = v_15 + 0.000001;
  let v_17 = inverseSqrt(v_16);
  let vs_18 = vec4<f32>(v_17);
  let v_19 = buf1[1u];
  let v_20 = v_19 * 0.125;
  let vs_21 = vec4<f32>(v_20);
  let v_22 = buf2[1u];
  let v_23 = v_22 * 0.125;
  let v_24 = v_23 + 0.000001;
  let v_25 = inverseSqrt(v_24);
  let vs_26 = vec4<f32>(v_25);
  let v_27 = buf1[2u];
  let v_28 = v_27 * 0.125;
  let vs_29 = vec4<f32>(v_28);
  let v_30 = buf2[2u];
  let v_31 = v_30 * 0.125;
  let v_32 = v_31 + 0.000001;
  let v_33 = inverseSqrt(v_32);
  let vs_34 = vec4<f32>(v_33);
  let v_35 = buf1[3u];
  let v_36 = v_35 * 0.125;
  let vs_37 = vec4<f32>(v_36);
  let v_38 = buf2[3u];
  let v_39 = v_38 * 0.125;
  let v_40 = v_39 + 0.000001;
  let v_41 = inverseSqrt(v_40);
  let vs_42 = vec4<f32>(v_41);
  let v_43 = buf1[4u];
  let v_44 = v_43 * 0.125;
  let vs_45 = vec4<f32>(v_44);
  let v_46 = buf2[4u];
  let v_47 = v_46 * 0.125;
  let v_48 = v_47 + 0.000001;
  let v_49 = inverseSqrt(v_48);
  let vs_50 = vec4<f32>(v_49);
  let v_51 = buf1[5u];
  let v_52 = v_51 * 0.125;
  let vs_53 = vec4<f32>(v_52);
  let v_54 = buf2[5u];
  let v_55 = v_54 * 0.125;
  let v_56 = v_55 + 0.000001;
  let v_57 = inverseSqrt(v_56);
  let vs_58 = vec4<f32>(v_57);
  let cc_59 = min(c_1, 11u);
  let cc_60 = min(c_1 + 1u, 11u);
  let cc_61 = min(c_1 + 2u, 11u);
  let cc_62 = min(c_1 + 3u, 11u);
  for (var k_63 = 0u; k_63 < opaque_0 + 8u; k_63 += 4u) {
    let vl_64 = buf0[k_63 / 4u];
    let vv_65 = vl_64 - vs_13;
    let vv_66 = vv_65 * vs_18;
    let vl_67 = buf3[k_63 / 4u];
    let vv_68 = vv_66 * vl_67;
    let vl_69 = buf4[k_63 / 4u];
    let vv_70 = vv_68 + vl_69;
    let vl_71 = buf0[k_63 / 4u + 2u];
    let vv_72 = vl_71 - vs_21;
    let vv_73 = vv_72 * vs_26;
    let vv_74 = vv_73 * vl_67;
    let vv_75 = vv_74 + vl_69;
    let vl_76 = buf0[k_63 / 4u + 4u];
    let vv_77 = vl_76 - vs_29;
    let vv_78 = vv_77 * vs_34;
    let vv_79 = vv_78 * vl_67;
    let vv_80 = vv_79 + vl_69;
    let vl_81 = buf0[k_63 / 4u + 6u];
    let vv_82 = vl_81 - vs_37;
    let vv_83 = vv_82 * vs_42;
    let vv_84 = vv_83 * vl_67;
    let vv_85 = vv_84 + vl_69;
    let vl_86 = buf0[k_63 / 4u + 8u];
    let vv_87 = vl_86 - vs_45;
    let vv_88 = vv_87 * vs_50;
    let vv_89 = vv_88 * vl_67;
    let vv_90 = vv_89 + vl_69;
    let vl_91 = buf0[k_63 / 4u + 10u];
    let vv_92 = vl_91 - vs_53;
    let vv_93 = vv_92 * vs_58;
    let vv_94 = vv_93 * vl_67;
    let vv_95 = vv_94 + vl_69;
    let vl_96 = buf5[cc_59 * 2u + k_63 / 4u];
    let vl_97 = buf5[cc_60 * 2u + k_63 / 4u];
    let vl_98 = buf5[cc_61 * 2u + k_63 / 4u];
    let vl_99 = buf5[cc_62 * 2u + k_63 / 4u];
    let yt_100 = vec4<f32>(vl_96.x, vl_97.x, vl_98.x, vl_99.x);
    let yt_101 = vec4<f32>(vl_96.y, vl_97.y, vl_98.y, vl_99.y);
    let yt_102 = vec4<f32>(vl_96.z, vl_97.z, vl_98.z, vl_99.z);
    let yt_103 = vec4<f32>(vl_96.w, vl_97.w, vl_98.w, vl_99.w);
    acc_3 = acc_3 + vv_70.x * yt_100 + vv_70.y * yt_101 + vv_70.z * yt_102 + vv_70.w * yt_103;
    acc_4 = acc_4 + vv_75.x * yt_100 + vv_75.y * yt_101 + vv_75.z * yt_102 + vv_75.w * yt_103;
    acc_5 = acc_5 + vv_80.x * yt_100 + vv_80.y * yt_101 + vv_80.z * yt_102 + vv_80.w * yt_103;
    acc_6 = acc_6 + vv_85.x * yt_100 + vv_85.y * yt_101 + vv_85.z * yt_102 + vv_85.w * yt_103;
    acc_7 = acc_7 + vv_90.x * yt_100 + vv_90.y * yt_101 + vv_90.z * yt_102 + vv_90.w * yt_103;
    acc_8 = acc_8 + vv_95.x * yt_100 + vv_95.y * yt_101 + vv_95.z * yt_102 + vv_95.w * yt_103;
    acc_9 = acc_9 + vv_95.x * yt_100 + vv_95.y * yt_101 + vv_95.z * yt_102 + vv_95.w * yt_103;
    acc_10 = acc_10 + vv_95.x * yt_100 + vv_95.y * yt_101 + vv_95.z * yt_102 + vv_95.w * yt_103;
  }
  var accs_104 = array<vec4<f32>, 8>(acc_3, acc_4, acc_5, acc_6, acc_7, acc_8, acc_9, acc_10);
  let vl_105 = buf6[cb_2 / 4u];
  for (var r_106 = 0u; r_106 < opaque_0 + 8u; r_106++) {
    let gm_107 = min(r_106, 5u);
    let f_108 = gm_107 * 12u + cb_2;
    let vv_109 = accs_104[r_106] + vl_105;
    let vv_110 = vv_109 * vec4<f32>(0.7071067811865476);
    let vv_111 = vec4<f32>(erf_f32(vv_110.x), erf_f32(vv_110.y), erf_f32(vv_110.z), erf_f32(vv_110.w));
    let vv_112 = vv_111 + vec4<f32>(1.0);
    let vv_113 = vv_109 * vv_112;
    let vv_114 = vv_113 * vec4<f32>(0.5);
    if (r_106 < 6u && c_1 < 12u) { buf7[f_108 / 4u] = vv_114; }
  }
}
