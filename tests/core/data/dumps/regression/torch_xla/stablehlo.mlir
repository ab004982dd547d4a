module @IrToHlo.53 attributes {mhlo.cross_program_prefetches = [], mhlo.input_output_alias = [], mhlo.is_dynamic = false, mhlo.use_auto_spmd_partitioning = false} {
  func.func @main(%arg0: tensor<4x1xf32>, %arg1: tensor<1xf32>, %arg2: tensor<1x1xf32>, %arg3: tensor<4x1xf32>, %arg4: tensor<f32>) -> (tensor<f32>, tensor<1x1xf32>, tensor<1xf32>) {
    %cst = stablehlo.constant dense<2.500000e-01> : tensor<4x1xf32>
    %cst_0 = stablehlo.constant dense<2.000000e+00> : tensor<4x1xf32>
    %cst_1 = stablehlo.constant dense<2.500000e-01> : tensor<f32>
    %cst_2 = stablehlo.constant dense<0.000000e+00> : tensor<f32>
    %0 = stablehlo.dot_general %arg3, %arg2, contracting_dims = [1] x [0], precision = [DEFAULT, DEFAULT] : (tensor<4x1xf32>, tensor<1x1xf32>) -> tensor<4x1xf32>
    %1 = stablehlo.broadcast_in_dim %arg1, dims = [1] : (tensor<1xf32>) -> tensor<4x1xf32>
    %2 = stablehlo.add %0, %1 : tensor<4x1xf32>
    %3 = stablehlo.subtract %2, %arg0 : tensor<4x1xf32>
    %4 = stablehlo.multiply %3, %3 : tensor<4x1xf32>
    %5 = stablehlo.reduce(%4 init: %cst_2) applies stablehlo.add across dimensions = [0, 1] : (tensor<4x1xf32>, tensor<f32>) -> tensor<f32>
    %6 = stablehlo.multiply %5, %cst_1 : tensor<f32>
    %7 = stablehlo.multiply %3, %cst_0 : tensor<4x1xf32>
    %8 = stablehlo.multiply %7, %cst : tensor<4x1xf32>
    %9 = stablehlo.reshape %8 : (tensor<4x1xf32>) -> tensor<1x4xf32>
    %10 = stablehlo.dot_general %9, %arg3, contracting_dims = [1] x [0], precision = [DEFAULT, DEFAULT] : (tensor<1x4xf32>, tensor<4x1xf32>) -> tensor<1x1xf32>
    %11 = stablehlo.reshape %arg4 : (tensor<f32>) -> tensor<1x1xf32>
    %12 = stablehlo.multiply %10, %11 : tensor<1x1xf32>
    %13 = stablehlo.add %arg2, %12 : tensor<1x1xf32>
    %14 = stablehlo.reduce(%8 init: %cst_2) applies stablehlo.add across dimensions = [0] : (tensor<4x1xf32>, tensor<f32>) -> tensor<1xf32>
    %15 = stablehlo.reshape %arg4 : (tensor<f32>) -> tensor<1xf32>
    %16 = stablehlo.multiply %14, %15 : tensor<1xf32>
    %17 = stablehlo.add %arg1, %16 : tensor<1xf32>
    return %6, %13, %17 : tensor<f32>, tensor<1x1xf32>, tensor<1xf32>
  }
}
