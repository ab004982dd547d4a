; ModuleID = '__compute_module___compute_module_wrapped_tanh'
source_filename = "__compute_module___compute_module_wrapped_tanh"
target datalayout = "e-m:e-p270:32:32-p271:32:32-p272:64:64-i64:64-i128:128-f80:128-n8:16:32:64-S128"
target triple = "x86_64-unknown-linux-gnu"

%XLA_CPU_KernelCallFrame = type { ptr, ptr, i64, ptr }
%XLA_CPU_KernelArg = type { ptr, i64 }
%kernel_dim3 = type { i64, i64, i64 }

declare <8 x float> @xla.tanh.v8f32(<8 x float>)

define ptr @wrapped_tanh(ptr %0) {
  %2 = getelementptr inbounds %XLA_CPU_KernelCallFrame, ptr %0, i32 0, i32 3
  %3 = load ptr, ptr %2, align 8, !invariant.load !3
  %4 = getelementptr inbounds %XLA_CPU_KernelArg, ptr %3, i32 0, i32 0
  %5 = load ptr, ptr %4, align 8, !invariant.load !3
  %6 = getelementptr inbounds %XLA_CPU_KernelArg, ptr %3, i32 1, i32 0
  %7 = load ptr, ptr %6, align 8, !invariant.load !3
  %8 = getelementptr inbounds %XLA_CPU_KernelCallFrame, ptr %0, i32 0, i32 1
  %9 = load ptr, ptr %8, align 8
  %10 = getelementptr inbounds %kernel_dim3, ptr %9, i32 0, i32 0
  %11 = load i64, ptr %10, align 4, !invariant.load !3
  %12 = call i64 @llvm.smax.i64(i64 %11, i64 0)
  %13 = mul nuw nsw i64 %12, 4
  %14 = call i64 @llvm.smin.i64(i64 %13, i64 4)
  br label %15

15:                                               ; preds = %18, %1
  %16 = phi i64 [ %19, %18 ], [ %14, %1 ]
  %17 = icmp slt i64 %16, 4
  br i1 %17, label %18, label %20

18:                                               ; preds = %15
  call void @wrapped_tanh_impl(ptr %5, ptr %5, i64 0, i64 4, i64 16, i64 16, i64 1, ptr %7, ptr %7, i64 0, i64 4, i64 16, i64 16, i64 1, i64 %16)
  %19 = add i64 %16, 1
  br label %15

20:                                               ; preds = %15
  ret ptr null
}

; Function Attrs: alwaysinline
define internal void @wrapped_tanh_impl(ptr %0, ptr %1, i64 %2, i64 %3, i64 %4, i64 %5, i64 %6, ptr %7, ptr %8, i64 %9, i64 %10, i64 %11, i64 %12, i64 %13, i64 %14) #0 {
  %16 = sub i64 4, %14
  %17 = call i64 @llvm.smin.i64(i64 %16, i64 1)
  %18 = icmp eq i64 %17, 1
  %19 = alloca float, i64 16, align 4
  %20 = insertvalue { ptr, ptr, i64, [2 x i64], [2 x i64] } poison, ptr %19, 0
  %21 = insertvalue { ptr, ptr, i64, [2 x i64], [2 x i64] } %20, ptr %19, 1
  %22 = insertvalue { ptr, ptr, i64, [2 x i64], [2 x i64] } %21, i64 0, 2
  %23 = insertvalue { ptr, ptr, i64, [2 x i64], [2 x i64] } %22, i64 1, 3, 0
  %24 = insertvalue { ptr, ptr, i64, [2 x i64], [2 x i64] } %23, i64 16, 3, 1
  %25 = insertvalue { ptr, ptr, i64, [2 x i64], [2 x i64] } %24, i64 16, 4, 0
  %26 = insertvalue { ptr, ptr, i64, [2 x i64], [2 x i64] } %25, i64 1, 4, 1
  %27 = alloca float, i64 16, align 4
  %28 = insertvalue { ptr, ptr, i64, [2 x i64], [2 x i64] } poison, ptr %27, 0
  %29 = insertvalue { ptr, ptr, i64, [2 x i64], [2 x i64] } %28, ptr %27, 1
  %30 = insertvalue { ptr, ptr, i64, [2 x i64], [2 x i64] } %29, i64 0, 2
  %31 = insertvalue { ptr, ptr, i64, [2 x i64], [2 x i64] } %30, i64 1, 3, 0
  %32 = insertvalue { ptr, ptr, i64, [2 x i64], [2 x i64] } %31, i64 16, 3, 1
  %33 = insertvalue { ptr, ptr, i64, [2 x i64], [2 x i64] } %32, i64 16, 4, 0
  %34 = insertvalue { ptr, ptr, i64, [2 x i64], [2 x i64] } %33, i64 1, 4, 1
  %35 = select i1 %18, { ptr, ptr, i64, [2 x i64], [2 x i64] } %26, { ptr, ptr, i64, [2 x i64], [2 x i64] } %34
  br i1 %18, label %36, label %39

36:                                               ; preds = %15
  %37 = mul nsw i64 %14, 16
  %38 = getelementptr float, ptr %1, i64 %37
  call void @llvm.memcpy.p0.p0.i64(ptr %19, ptr %38, i64 64, i1 false)
  br label %59

39:                                               ; preds = %15
  %40 = mul nsw i64 %14, 16
  br label %41

41:                                               ; preds = %56, %39
  %42 = phi i64 [ %57, %56 ], [ 0, %39 ]
  %43 = icmp slt i64 %42, %17
  br i1 %43, label %44, label %58

44:                                               ; preds = %41
  br label %45

45:                                               ; preds = %48, %44
  %46 = phi i64 [ %55, %48 ], [ 0, %44 ]
  %47 = icmp slt i64 %46, 16
  br i1 %47, label %48, label %56

48:                                               ; preds = %45
  %49 = getelementptr float, ptr %1, i64 %40
  %50 = mul nuw nsw i64 %42, 16
  %51 = add nuw nsw i64 %50, %46
  %52 = getelementptr inbounds nuw float, ptr %49, i64 %51
  %53 = load float, ptr %52, align 4
  %54 = getelementptr inbounds nuw float, ptr %27, i64 %51
  store float %53, ptr %54, align 4
  %55 = add i64 %46, 1
  br label %45

56:                                               ; preds = %45
  %57 = add i64 %42, 1
  br label %41

58:                                               ; preds = %41
  br label %59

59:                                               ; preds = %36, %58
  %60 = alloca float, i64 16, align 64
  %61 = extractvalue { ptr, ptr, i64, [2 x i64], [2 x i64] } %35, 1
  br label %62

62:                                               ; preds = %65, %59
  %63 = phi i64 [ %71, %65 ], [ 0, %59 ]
  %64 = icmp slt i64 %63, 16
  br i1 %64, label %65, label %72

65:                                               ; preds = %62
  %66 = add i64 0, %63
  %67 = getelementptr float, ptr %61, i64 %66
  %68 = load <8 x float>, ptr %67, align 4
  %69 = call <8 x float> @xla.tanh.v8f32(<8 x float> %68)
  %70 = getelementptr float, ptr %60, i64 %66
  store <8 x float> %69, ptr %70, align 4
  %71 = add i64 %63, 8
  br label %62

72:                                               ; preds = %62
  br i1 %18, label %73, label %76

73:                                               ; preds = %72
  %74 = mul nsw i64 %14, 16
  %75 = getelementptr float, ptr %8, i64 %74
  call void @llvm.memcpy.p0.p0.i64(ptr %75, ptr %60, i64 64, i1 false)
  br label %96

76:                                               ; preds = %72
  %77 = mul nsw i64 %14, 16
  br label %78

78:                                               ; preds = %93, %76
  %79 = phi i64 [ %94, %93 ], [ 0, %76 ]
  %80 = icmp slt i64 %79, %17
  br i1 %80, label %81, label %95

81:                                               ; preds = %78
  br label %82

82:                                               ; preds = %85, %81
  %83 = phi i64 [ %92, %85 ], [ 0, %81 ]
  %84 = icmp slt i64 %83, 16
  br i1 %84, label %85, label %93

85:                                               ; preds = %82
  %86 = mul nuw nsw i64 %79, 16
  %87 = add nuw nsw i64 %86, %83
  %88 = getelementptr inbounds nuw float, ptr %60, i64 %87
  %89 = load float, ptr %88, align 4
  %90 = getelementptr float, ptr %8, i64 %77
  %91 = getelementptr inbounds nuw float, ptr %90, i64 %87
  store float %89, ptr %91, align 4
  %92 = add i64 %83, 1
  br label %82

93:                                               ; preds = %82
  %94 = add i64 %79, 1
  br label %78

95:                                               ; preds = %78
  br label %96

96:                                               ; preds = %73, %95
  ret void
}

; Function Attrs: nocallback nocreateundeforpoison nofree nosync nounwind speculatable willreturn memory(none)
declare i64 @llvm.smax.i64(i64, i64) #1

; Function Attrs: nocallback nocreateundeforpoison nofree nosync nounwind speculatable willreturn memory(none)
declare i64 @llvm.smin.i64(i64, i64) #1

; Function Attrs: nocallback nofree nosync nounwind willreturn memory(argmem: readwrite)
declare void @llvm.memcpy.p0.p0.i64(ptr noalias writeonly captures(none), ptr noalias readonly captures(none), i64, i1 immarg) #2

attributes #0 = { alwaysinline }
attributes #1 = { nocallback nocreateundeforpoison nofree nosync nounwind speculatable willreturn memory(none) }
attributes #2 = { nocallback nofree nosync nounwind willreturn memory(argmem: readwrite) }

!llvm.module.flags = !{!0, !1}
!xla_cpu_memory_region_name = !{!2}

!0 = !{i32 2, !"Debug Info Version", i32 3}
!1 = !{i32 1, !"xla_dylib_index", i64 4}
!2 = !{!"xla_cpu_emitter__tiled_emitter__hlo_opcode__fusion"}
!3 = !{}
