// k002_matmul_mul_sub_mul_add_7more_6x12: matmul kernel, vec4 r8 wg8x1 x:k y:k store4; workgroup 8x1x1, dispatch 1x1x1
//   binding 0 buf0v (read): %0 input "x" f32[2,3,8]
//   binding 1 buf1 (read/write): %3 sum f32[2,3,1]
//   binding 2 buf2 (read/write): %8 sum f32[2,3,1]
//   binding 3 buf3v (read): %1 param "ln.weight" f32[8]
//   binding 4 buf4v (read): %2 param "ln.bias" f32[8]
//   binding 5 buf5v (read): %17 param "fc1.weight" f32[12,8]
//   binding 6 buf6v (read): %18 param "fc1.bias" f32[12]
//   binding 7 buf7v (read/write): %34 reshape f32[6,12]
fn erf_f32(x: f32) -> f32 {
  let a = abs(x);
  let t = 1.0 / (1.0 + 0.3275911 * a);
  let poly = t * (0.254829592 + t * (-0.284496736 + t * (1.421413741 + t * (-1.453152027 + t * 1.061405429))));
  return sign(x) * (1.0 - poly * exp(-a * a));
}
@group(0) @binding(0) var<storage, read> buf0v: array<vec4<f32>>;
@group(0) @binding(1) var<storage, read_write> buf1: array<f32>;
@group(0) @binding(2) var<storage, read_write> buf2: array<f32>;
@group(0) @binding(3) var<storage, read> buf3v: array<vec4<f32>>;
@group(0) @binding(4) var<storage, read> buf4v: array<vec4<f32>>;
@group(0) @binding(5) var<storage, read> buf5v: array<vec4<f32>>;
@group(0) @binding(6) var<storage, read> buf6v: array<vec4<f32>>;
@group(0) @binding(7) var<storage, read_write> buf7v: array<vec4<f32>>;

@compute @workgroup_size(8, 1, 1)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_id) lid: vec3u) {
  let opaque0 = wid.x >> 31u; // 0 (workgroup ids are < 65536): keeps loop bounds from being constants the driver unrolls
  let c_0 = lid.x * 4u;
  let cb_1 = min(c_0, 8u);
  var acc0 = vec4<f32>(0.0);
  var acc1 = vec4<f32>(0.0);
  var acc2 = vec4<f32>(0.0);
  var acc3 = vec4<f32>(0.0);
  var acc4 = vec4<f32>(0.0);
  var acc5 = vec4<f32>(0.0);
  var acc6 = vec4<f32>(0.0);
  var acc7 = vec4<f32>(0.0);
  let v_3 = buf1[0u];
  let v_4 = v_3 * 0.125;
  let vs_5 = vec4<f32>(v_4);
  let v_7 = buf2[0u];
  let v_8 = v_7 * 0.125;
  let v_9 = v_8 + 0.000001;
  let v_10 = inverseSqrt(v_9);
  let vs_11 = vec4<f32>(v_10);
  let v_19 = buf1[1u];
  let v_20 = v_19 * 0.125;
  let vs_21 = vec4<f32>(v_20);
  let v_23 = buf2[1u];
  let v_24 = v_23 * 0.125;
  let v_25 = v_24 + 0.000001;
  let v_26 = inverseSqrt(v_25);
  let vs_27 = vec4<f32>(v_26);
  let v_33 = buf1[2u];
  let v_34 = v_33 * 0.125;
  let vs_35 = vec4<f32>(v_34);
  let v_37 = buf2[2u];
  let v_38 = v_37 * 0.125;
  let v_39 = v_38 + 0.000001;
  let v_40 = inverseSqrt(v_39);
  let vs_41 = vec4<f32>(v_40);
  let v_47 = buf1[3u];
  let v_48 = v_47 * 0.125;
  let vs_49 = vec4<f32>(v_48);
  let v_51 = buf2[3u];
  let v_52 = v_51 * 0.125;
  let v_53 = v_52 + 0.000001;
  let v_54 = inverseSqrt(v_53);
  let vs_55 = vec4<f32>(v_54);
  let v_61 = buf1[4u];
  let v_62 = v_61 * 0.125;
  let vs_63 = vec4<f32>(v_62);
  let v_65 = buf2[4u];
  let v_66 = v_65 * 0.125;
  let v_67 = v_66 + 0.000001;
  let v_68 = inverseSqrt(v_67);
  let vs_69 = vec4<f32>(v_68);
  let v_75 = buf1[5u];
  let v_76 = v_75 * 0.125;
  let vs_77 = vec4<f32>(v_76);
  let v_79 = buf2[5u];
  let v_80 = v_79 * 0.125;
  let v_81 = v_80 + 0.000001;
  let v_82 = inverseSqrt(v_81);
  let vs_83 = vec4<f32>(v_82);
  let cc_87 = min(c_0, 11u);
  let cc_89 = min(c_0 + 1u, 11u);
  let cc_91 = min(c_0 + 2u, 11u);
  let cc_93 = min(c_0 + 3u, 11u);
  for (var k = 0u; k < 8u + opaque0; k += 4u) {
    let vl_2 = buf0v[k / 4u];
    let vv_6 = vl_2 - vs_5;
    let vv_12 = vv_6 * vs_11;
    let vl_13 = buf3v[k / 4u];
    let vv_14 = vv_12 * vl_13;
    let vl_15 = buf4v[k / 4u];
    let vv_16 = vv_14 + vl_15;
    let vl_18 = buf0v[k / 4u + 2u];
    let vv_22 = vl_18 - vs_21;
    let vv_28 = vv_22 * vs_27;
    let vv_29 = vv_28 * vl_13;
    let vv_30 = vv_29 + vl_15;
    let vl_32 = buf0v[k / 4u + 4u];
    let vv_36 = vl_32 - vs_35;
    let vv_42 = vv_36 * vs_41;
    let vv_43 = vv_42 * vl_13;
    let vv_44 = vv_43 + vl_15;
    let vl_46 = buf0v[k / 4u + 6u];
    let vv_50 = vl_46 - vs_49;
    let vv_56 = vv_50 * vs_55;
    let vv_57 = vv_56 * vl_13;
    let vv_58 = vv_57 + vl_15;
    let vl_60 = buf0v[k / 4u + 8u];
    let vv_64 = vl_60 - vs_63;
    let vv_70 = vv_64 * vs_69;
    let vv_71 = vv_70 * vl_13;
    let vv_72 = vv_71 + vl_15;
    let vl_74 = buf0v[k / 4u + 10u];
    let vv_78 = vl_74 - vs_77;
    let vv_84 = vv_78 * vs_83;
    let vv_85 = vv_84 * vl_13;
    let vv_86 = vv_85 + vl_15;
    let vl_88 = buf5v[cc_87 * 2u + k / 4u];
    let vl_90 = buf5v[cc_89 * 2u + k / 4u];
    let vl_92 = buf5v[cc_91 * 2u + k / 4u];
    let vl_94 = buf5v[cc_93 * 2u + k / 4u];
    let yt_95 = vec4<f32>(vl_88.x, vl_90.x, vl_92.x, vl_94.x);
    let yt_96 = vec4<f32>(vl_88.y, vl_90.y, vl_92.y, vl_94.y);
    let yt_97 = vec4<f32>(vl_88.z, vl_90.z, vl_92.z, vl_94.z);
    let yt_98 = vec4<f32>(vl_88.w, vl_90.w, vl_92.w, vl_94.w);
    acc0 = acc0 + vv_16.x * yt_95 + vv_16.y * yt_96 + vv_16.z * yt_97 + vv_16.w * yt_98;
    acc1 = acc1 + vv_30.x * yt_95 + vv_30.y * yt_96 + vv_30.z * yt_97 + vv_30.w * yt_98;
    acc2 = acc2 + vv_44.x * yt_95 + vv_44.y * yt_96 + vv_44.z * yt_97 + vv_44.w * yt_98;
    acc3 = acc3 + vv_58.x * yt_95 + vv_58.y * yt_96 + vv_58.z * yt_97 + vv_58.w * yt_98;
    acc4 = acc4 + vv_72.x * yt_95 + vv_72.y * yt_96 + vv_72.z * yt_97 + vv_72.w * yt_98;
    acc5 = acc5 + vv_86.x * yt_95 + vv_86.y * yt_96 + vv_86.z * yt_97 + vv_86.w * yt_98;
    acc6 = acc6 + vv_86.x * yt_95 + vv_86.y * yt_96 + vv_86.z * yt_97 + vv_86.w * yt_98;
    acc7 = acc7 + vv_86.x * yt_95 + vv_86.y * yt_96 + vv_86.z * yt_97 + vv_86.w * yt_98;
  }
  var accs = array<vec4<f32>, 8>(acc0, acc1, acc2, acc3, acc4, acc5, acc6, acc7);
  let vl_103 = buf6v[cb_1 / 4u];
  for (var r = 0u; r < 8u + opaque0; r++) {
    let gm_99 = min(r, 5u);
    let f_100 = gm_99 * 12u + cb_1;
    let vv_104 = accs[r] + vl_103;
    let vv_105 = vv_104 * vec4<f32>(0.7071067811865476);
    let vv_106 = vec4<f32>(erf_f32(vv_105.x), erf_f32(vv_105.y), erf_f32(vv_105.z), erf_f32(vv_105.w));
    let vv_107 = vv_106 + vec4<f32>(1.0);
    let vv_108 = vv_104 * vv_107;
    let vv_109 = vv_108 * vec4<f32>(0.5);
    if (r < 6u && c_0 < 12u) { buf7v[f_100 / 4u] = vv_109; }
  }
}
