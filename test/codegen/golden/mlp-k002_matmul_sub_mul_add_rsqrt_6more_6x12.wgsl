// k002_matmul_sub_mul_add_rsqrt_6more_6x12: matmul kernel, vec4 r4 wg8x2 x:k y:cols store4; workgroup 8x2x1, dispatch 1x1x1
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

@compute @workgroup_size(8, 2, 1)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_id) lid3: vec3u) {
  let opaque_0 = wid.x >> 31u; // 0 (workgroup ids are < 65536): keeps loop bounds from being constants the driver unrolls
  let n_1 = arrayLength(&buf4) * 4u / 12u;
  let tiles_2 = (n_1 + 7u) / 8u;
  let tile_3 = wid.x + wid.y * nwg.x;
  if (tile_3 >= tiles_2) { return; }
  let c_4 = lid3.x * 4u;
  let r_5 = lid3.y * 4u;
  let cb_6 = min(c_4, 8u);
  var acc_7 = vec4<f32>(0.0);
  var acc_8 = vec4<f32>(0.0);
  var acc_9 = vec4<f32>(0.0);
  var acc_10 = vec4<f32>(0.0);
  let xr_11 = min(r_5, n_1 - 1u);
  let v_12 = buf0[xr_11 * 8u / 4u][xr_11 * 8u % 4u];
  var sy_13 = vec4<f32>(0.0);
  var qy_14 = vec4<f32>(0.0);
  for (var j_15 = 0u; j_15 < opaque_0 + 8u; j_15 += 4u) {
    let vl_16 = buf0[xr_11 * 2u + j_15 / 4u];
    let y_17 = vl_16 - vec4<f32>(v_12);
    sy_13 = sy_13 + y_17;
    qy_14 = qy_14 + y_17 * y_17;
  }
  let sy_18 = sy_13.x + sy_13.y + sy_13.z + sy_13.w;
  let qy_19 = qy_14.x + qy_14.y + qy_14.z + qy_14.w;
  let t_20 = 0.125 * sy_18;
  let mean_21 = v_12 + t_20;
  let r_22 = max(qy_19 - 2.0 * t_20 * sy_18 + 8.0 * t_20 * t_20, 0.0);
  let xr_23 = min(r_5 + 1u, n_1 - 1u);
  let v_24 = buf0[xr_23 * 8u / 4u][xr_23 * 8u % 4u];
  var sy_25 = vec4<f32>(0.0);
  var qy_26 = vec4<f32>(0.0);
  for (var j_27 = 0u; j_27 < opaque_0 + 8u; j_27 += 4u) {
    let vl_28 = buf0[xr_23 * 2u + j_27 / 4u];
    let y_29 = vl_28 - vec4<f32>(v_24);
    sy_25 = sy_25 + y_29;
    qy_26 = qy_26 + y_29 * y_29;
  }
  let sy_30 = sy_25.x + sy_25.y + sy_25.z + sy_25.w;
  let qy_31 = qy_26.x + qy_26.y + qy_26.z + qy_26.w;
  let t_32 = 0.125 * sy_30;
  let mean_33 = v_24 + t_32;
  let r_34 = max(qy_31 - 2.0 * t_32 * sy_30 + 8.0 * t_32 * t_32, 0.0);
  let xr_35 = min(r_5 + 2u, n_1 - 1u);
  let v_36 = buf0[xr_35 * 8u / 4u][xr_35 * 8u % 4u];
  var sy_37 = vec4<f32>(0.0);
  var qy_38 = vec4<f32>(0.0);
  for (var j_39 = 0u; j_39 < opaque_0 + 8u; j_39 += 4u) {
    let vl_40 = buf0[xr_35 * 2u + j_39 / 4u];
    let y_41 = vl_40 - vec4<f32>(v_36);
    sy_37 = sy_37 + y_41;
    qy_38 = qy_38 + y_41 * y_41;
  }
  let sy_42 = sy_37.x + sy_37.y + sy_37.z + sy_37.w;
  let qy_43 = qy_38.x + qy_38.y + qy_38.z + qy_38.w;
  let t_44 = 0.125 * sy_42;
  let mean_45 = v_36 + t_44;
  let r_46 = max(qy_43 - 2.0 * t_44 * sy_42 + 8.0 * t_44 * t_44, 0.0);
  let xr_47 = min(r_5 + 3u, n_1 - 1u);
  let v_48 = buf0[xr_47 * 8u / 4u][xr_47 * 8u % 4u];
  var sy_49 = vec4<f32>(0.0);
  var qy_50 = vec4<f32>(0.0);
  for (var j_51 = 0u; j_51 < opaque_0 + 8u; j_51 += 4u) {
    let vl_52 = buf0[xr_47 * 2u + j_51 / 4u];
    let y_53 = vl_52 - vec4<f32>(v_48);
    sy_49 = sy_49 + y_53;
    qy_50 = qy_50 + y_53 * y_53;
  }
  let sy_54 = sy_49.x + sy_49.y + sy_49.z + sy_49.w;
  let qy_55 = qy_50.x + qy_50.y + qy_50.z + qy_50.w;
  let t_56 = 0.125 * sy_54;
  let mean_57 = v_48 + t_56;
  let r_58 = max(qy_55 - 2.0 * t_56 * sy_54 + 8.0 * t_56 * t_56, 0.0);
  let vs_59 = vec4<f32>(mean_21);
  let v_60 = r_22 * 0.125;
  let v_61 = v_60 + 0.000001;
  let v_62 = inverseSqrt(v_61);
  let vs_63 = vec4<f32>(v_62);
  let vs_64 = vec4<f32>(mean_33);
  let v_65 = r_34 * 0.125;
  let v_66 = v_65 + 0.000001;
  let v_67 = inverseSqrt(v_66);
  let vs_68 = vec4<f32>(v_67);
  let vs_69 = vec4<f32>(mean_45);
  let v_70 = r_46 * 0.125;
  let v_71 = v_70 + 0.000001;
  let v_72 = inverseSqrt(v_71);
  let vs_73 = vec4<f32>(v_72);
  let vs_74 = vec4<f32>(mean_57);
  let v_75 = r_58 * 0.125;
  let v_76 = v_75 + 0.000001;
  let v_77 = inverseSqrt(v_76);
  let vs_78 = vec4<f32>(v_77);
  for (var k_79 = 0u; k_79 < opaque_0 + 8u; k_79 += 4u) {
    let vl_80 = buf0[xr_11 * 2u + k_79 / 4u];
    let vv_81 = vl_80 - vs_59;
    let vv_82 = vv_81 * vs_63;
    let vl_83 = buf0[xr_23 * 2u + k_79 / 4u];
    let vv_84 = vl_83 - vs_64;
    let vv_85 = vv_84 * vs_68;
    let vl_86 = buf0[xr_35 * 2u + k_79 / 4u];
    let vv_87 = vl_86 - vs_69;
    let vv_88 = vv_87 * vs_73;
    let vl_89 = buf0[xr_47 * 2u + k_79 / 4u];
    let vv_90 = vl_89 - vs_74;
    let vv_91 = vv_90 * vs_78;
    let vl_92 = buf1[k_79 * 3u + cb_6 / 4u];
    let yk_93 = k_79 + 1u;
    let vl_94 = buf1[yk_93 * 3u + cb_6 / 4u];
    let yk_95 = k_79 + 2u;
    let vl_96 = buf1[yk_95 * 3u + cb_6 / 4u];
    let yk_97 = k_79 + 3u;
    let vl_98 = buf1[yk_97 * 3u + cb_6 / 4u];
    acc_7 = acc_7 + vv_82.x * vl_92 + vv_82.y * vl_94 + vv_82.z * vl_96 + vv_82.w * vl_98;
    acc_8 = acc_8 + vv_85.x * vl_92 + vv_85.y * vl_94 + vv_85.z * vl_96 + vv_85.w * vl_98;
    acc_9 = acc_9 + vv_88.x * vl_92 + vv_88.y * vl_94 + vv_88.z * vl_96 + vv_88.w * vl_98;
    acc_10 = acc_10 + vv_91.x * vl_92 + vv_91.y * vl_94 + vv_91.z * vl_96 + vv_91.w * vl_98;
  }
  var accs_99 = array<vec4<f32>, 4>(acc_7, acc_8, acc_9, acc_10);
  let vl_100 = buf2[cb_6 / 4u];
  let vl_101 = buf3[cb_6 / 4u];
  for (var r_102 = 0u; r_102 < opaque_0 + 4u; r_102++) {
    let gm_103 = r_5 + r_102;
    let gm_104 = min(gm_103, n_1 - 1u);
    let f_105 = gm_104 * 12u + cb_6;
    let vv_106 = accs_99[r_102] + vl_100;
    let vv_107 = vv_106 + vl_101;
    let vv_108 = vv_107 * vec4<f32>(0.7071067811865476);
    let vv_109 = vec4<f32>(erf_f32(vv_108.x), erf_f32(vv_108.y), erf_f32(vv_108.z), erf_f32(vv_108.w));
    let vv_110 = vv_109 + vec4<f32>(1.0);
    let vv_111 = vv_107 * vv_110;
    let vv_112 = vv_111 * vec4<f32>(0.5);
    if (gm_103 < n_1 && c_4 < 12u) { buf4[f_105 / 4u] = vv_112; }
  }
}
