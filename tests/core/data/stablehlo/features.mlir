// Hand-written StableHLO exercising what jax rarely prints: unknown dialects,
// tuples and tokens, called functions of custom_call, sort comparators,
// bounded dynamic shapes, bf16/complex/large constants, multi-result ops.
module @features attributes {mhlo.num_partitions = 1 : i32} {
  func.func public @main(%arg0: tensor<4xf32> {jax.buffer_donor = true}, %arg1: tensor<?xf32, #stablehlo.bounds<8>>) -> (tensor<4xf32>, tensor<4xf32>) {
    %0 = "foo.bar"(%arg0) {alpha = 3 : i32, name = "x"} : (tensor<4xf32>) -> tensor<4xf32> loc("jit(f)/foo"("f.py":7:3))
    %t = stablehlo.create_token : !stablehlo.token
    %1 = stablehlo.tuple %0, %t : tuple<tensor<4xf32>, !stablehlo.token>
    %2 = stablehlo.get_tuple_element %1[0] : (tuple<tensor<4xf32>, !stablehlo.token>) -> tensor<4xf32>
    %3 = stablehlo.custom_call @my_target(%2) {called_computations = [@helper], backend_config = "cfg"} : (tensor<4xf32>) -> tensor<4xf32>
    %4:2 = "stablehlo.sort"(%3, %2) <{dimension = 0 : i64, is_stable = true}> ({
    ^bb0(%a: tensor<f32>, %b: tensor<f32>, %c: tensor<f32>, %d: tensor<f32>):
      %p = stablehlo.compare GT, %a, %b, FLOAT : (tensor<f32>, tensor<f32>) -> tensor<i1>
      stablehlo.return %p : tensor<i1>
    }) : (tensor<4xf32>, tensor<4xf32>) -> (tensor<4xf32>, tensor<4xf32>)
    %cb = stablehlo.constant dense<[1.5, 2.0, -1.0, 0.5]> : tensor<4xbf16>
    %cc = stablehlo.constant dense<(1.0, 2.0)> : tensor<complex<f32>>
    %big = stablehlo.constant dense<1.0> : tensor<64x64xf32>
    %5 = stablehlo.convert %cb : (tensor<4xbf16>) -> tensor<4xf32>
    %6 = stablehlo.add %4#1, %5 : tensor<4xf32>
    %7 = stablehlo.reshape %6 : (tensor<4xf32>) -> tensor<4xf32>
    %8 = stablehlo.transpose %7, dims = [0] : (tensor<4xf32>) -> tensor<4xf32>
    %9 = stablehlo.convert %8 : (tensor<4xf32>) -> tensor<4xf32>
    return %4#0, %9 : tensor<4xf32>, tensor<4xf32>
  }
  func.func private @helper(%x: tensor<4xf32>) -> tensor<4xf32> {
    return %x : tensor<4xf32>
  }
}
