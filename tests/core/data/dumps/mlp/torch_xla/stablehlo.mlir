module @IrToHlo.132 attributes {mhlo.cross_program_prefetches = [], mhlo.input_output_alias = [], mhlo.is_dynamic = false, mhlo.use_auto_spmd_partitioning = false} {
  func.func @main(%arg0: tensor<4x1xf32>, %arg1: tensor<1xf32>, %arg2: tensor<1x8xf32>, %arg3: tensor<8xf32>, %arg4: tensor<8x8xf32>, %arg5: tensor<8xf32>, %arg6: tensor<8x1xf32>, %arg7: tensor<4x1xf32>, %arg8: tensor<f32>) -> (tensor<f32>, tensor<8x1xf32>, tensor<8xf32>, tensor<8x8xf32>, tensor<8xf32>, tensor<1x8xf32>, tensor<1xf32>) {
    %cst = stablehlo.constant dense<2.000000e+00> : tensor<4x8xf32>
    %cst_0 = stablehlo.constant dense<1.000000e+00> : tensor<4x8xf32>
    %cst_1 = stablehlo.constant dense<2.500000e-01> : tensor<4x1xf32>
    %cst_2 = stablehlo.constant dense<2.000000e+00> : tensor<4x1xf32>
    %cst_3 = stablehlo.constant dense<2.500000e-01> : tensor<f32>
    %cst_4 = stablehlo.constant dense<0.000000e+00> : tensor<f32>
    %0 = stablehlo.reshape %arg6 : (tensor<8x1xf32>) -> tensor<1x8xf32>
    %1 = stablehlo.dot_general %arg7, %0, contracting_dims = [1] x [0], precision = [DEFAULT, DEFAULT] : (tensor<4x1xf32>, tensor<1x8xf32>) -> tensor<4x8xf32>
    %2 = stablehlo.broadcast_in_dim %arg5, dims = [1] : (tensor<8xf32>) -> tensor<4x8xf32>
    %3 = stablehlo.add %1, %2 : tensor<4x8xf32>
    %4 = stablehlo.tanh %3 : tensor<4x8xf32>
    %5 = stablehlo.transpose %arg4, dims = [1, 0] {result_layout = dense<[0, 1]> : tensor<2xindex>, xla_shape = "f32[8,8]{0,1}"} : (tensor<8x8xf32>) -> tensor<8x8xf32>
    %6 = stablehlo.dot_general %4, %5, contracting_dims = [1] x [0], precision = [DEFAULT, DEFAULT] : (tensor<4x8xf32>, tensor<8x8xf32>) -> tensor<4x8xf32>
    %7 = stablehlo.broadcast_in_dim %arg3, dims = [1] : (tensor<8xf32>) -> tensor<4x8xf32>
    %8 = stablehlo.add %6, %7 : tensor<4x8xf32>
    %9 = stablehlo.tanh %8 : tensor<4x8xf32>
    %10 = stablehlo.reshape %arg2 : (tensor<1x8xf32>) -> tensor<8x1xf32>
    %11 = stablehlo.dot_general %9, %10, contracting_dims = [1] x [0], precision = [DEFAULT, DEFAULT] : (tensor<4x8xf32>, tensor<8x1xf32>) -> tensor<4x1xf32>
    %12 = stablehlo.broadcast_in_dim %arg1, dims = [1] : (tensor<1xf32>) -> tensor<4x1xf32>
    %13 = stablehlo.add %11, %12 : tensor<4x1xf32>
    %14 = stablehlo.subtract %13, %arg0 : tensor<4x1xf32>
    %15 = stablehlo.multiply %14, %14 : tensor<4x1xf32>
    %16 = stablehlo.reduce(%15 init: %cst_4) applies stablehlo.add across dimensions = [0, 1] : (tensor<4x1xf32>, tensor<f32>) -> tensor<f32>
    %17 = stablehlo.multiply %16, %cst_3 : tensor<f32>
    %18 = stablehlo.reshape %arg7 : (tensor<4x1xf32>) -> tensor<1x4xf32>
    %19 = stablehlo.multiply %14, %cst_2 : tensor<4x1xf32>
    %20 = stablehlo.multiply %19, %cst_1 : tensor<4x1xf32>
    %21 = stablehlo.dot_general %20, %arg2, contracting_dims = [1] x [0], precision = [DEFAULT, DEFAULT] : (tensor<4x1xf32>, tensor<1x8xf32>) -> tensor<4x8xf32>
    %22 = stablehlo.power %9, %cst : tensor<4x8xf32>
    %23 = stablehlo.subtract %cst_0, %22 : tensor<4x8xf32>
    %24 = stablehlo.multiply %21, %23 : tensor<4x8xf32>
    %25 = stablehlo.dot_general %24, %arg4, contracting_dims = [1] x [0], precision = [DEFAULT, DEFAULT] : (tensor<4x8xf32>, tensor<8x8xf32>) -> tensor<4x8xf32>
    %26 = stablehlo.power %4, %cst : tensor<4x8xf32>
    %27 = stablehlo.subtract %cst_0, %26 : tensor<4x8xf32>
    %28 = stablehlo.multiply %25, %27 : tensor<4x8xf32>
    %29 = stablehlo.dot_general %18, %28, contracting_dims = [1] x [0], precision = [DEFAULT, DEFAULT] : (tensor<1x4xf32>, tensor<4x8xf32>) -> tensor<1x8xf32>
    %30 = stablehlo.reshape %29 : (tensor<1x8xf32>) -> tensor<8x1xf32>
    %31 = stablehlo.broadcast_in_dim %arg8, dims = [] : (tensor<f32>) -> tensor<8x1xf32>
    %32 = stablehlo.multiply %30, %31 : tensor<8x1xf32>
    %33 = stablehlo.add %arg6, %32 : tensor<8x1xf32>
    %34 = stablehlo.reduce(%28 init: %cst_4) applies stablehlo.add across dimensions = [0] : (tensor<4x8xf32>, tensor<f32>) -> tensor<8xf32>
    %35 = stablehlo.broadcast_in_dim %arg8, dims = [] : (tensor<f32>) -> tensor<8xf32>
    %36 = stablehlo.multiply %34, %35 : tensor<8xf32>
    %37 = stablehlo.add %arg5, %36 : tensor<8xf32>
    %38 = stablehlo.transpose %4, dims = [1, 0] {result_layout = dense<[0, 1]> : tensor<2xindex>, xla_shape = "f32[8,4]{0,1}"} : (tensor<4x8xf32>) -> tensor<8x4xf32>
    %39 = stablehlo.dot_general %38, %24, contracting_dims = [1] x [0], precision = [DEFAULT, DEFAULT] : (tensor<8x4xf32>, tensor<4x8xf32>) -> tensor<8x8xf32>
    %40 = stablehlo.transpose %39, dims = [1, 0] {result_layout = dense<[0, 1]> : tensor<2xindex>, xla_shape = "f32[8,8]{0,1}"} : (tensor<8x8xf32>) -> tensor<8x8xf32>
    %41 = stablehlo.broadcast_in_dim %arg8, dims = [] : (tensor<f32>) -> tensor<8x8xf32>
    %42 = stablehlo.multiply %40, %41 : tensor<8x8xf32>
    %43 = stablehlo.add %arg4, %42 : tensor<8x8xf32>
    %44 = stablehlo.reduce(%24 init: %cst_4) applies stablehlo.add across dimensions = [0] : (tensor<4x8xf32>, tensor<f32>) -> tensor<8xf32>
    %45 = stablehlo.multiply %44, %35 : tensor<8xf32>
    %46 = stablehlo.add %arg3, %45 : tensor<8xf32>
    %47 = stablehlo.transpose %9, dims = [1, 0] {result_layout = dense<[0, 1]> : tensor<2xindex>, xla_shape = "f32[8,4]{0,1}"} : (tensor<4x8xf32>) -> tensor<8x4xf32>
    %48 = stablehlo.dot_general %47, %20, contracting_dims = [1] x [0], precision = [DEFAULT, DEFAULT] : (tensor<8x4xf32>, tensor<4x1xf32>) -> tensor<8x1xf32>
    %49 = stablehlo.reshape %48 : (tensor<8x1xf32>) -> tensor<1x8xf32>
    %50 = stablehlo.broadcast_in_dim %arg8, dims = [] : (tensor<f32>) -> tensor<1x8xf32>
    %51 = stablehlo.multiply %49, %50 : tensor<1x8xf32>
    %52 = stablehlo.add %arg2, %51 : tensor<1x8xf32>
    %53 = stablehlo.reduce(%20 init: %cst_4) applies stablehlo.add across dimensions = [0] : (tensor<4x1xf32>, tensor<f32>) -> tensor<1xf32>
    %54 = stablehlo.reshape %arg8 : (tensor<f32>) -> tensor<1xf32>
    %55 = stablehlo.multiply %53, %54 : tensor<1xf32>
    %56 = stablehlo.add %arg1, %55 : tensor<1xf32>
    return %17, %33, %37, %43, %46, %52, %56 : tensor<f32>, tensor<8x1xf32>, tensor<8xf32>, tensor<8x8xf32>, tensor<8xf32>, tensor<1x8xf32>, tensor<1xf32>
  }
}
