; ModuleID = '__compute_module_multiply_subtract_fusion_kernel_module'
source_filename = "__compute_module_multiply_subtract_fusion_kernel_module"
target datalayout = "e-m:e-p270:32:32-p271:32:32-p272:64:64-i64:64-i128:128-f80:128-n8:16:32:64-S128"
target triple = "x86_64-unknown-linux-gnu"

%XLA_CPU_KernelCallFrame = type { ptr, ptr, i64, ptr }
%XLA_CPU_KernelArg = type { ptr, i64 }
%kernel_dim3 = type { i64, i64, i64 }

; Function Attrs: uwtable
define ptr @multiply_subtract_fusion(ptr %0) #0 {
  %2 = getelementptr inbounds %XLA_CPU_KernelCallFrame, ptr %0, i32 0, i32 3
  %3 = load ptr, ptr %2, align 8, !invariant.load !3
  %4 = getelementptr inbounds %XLA_CPU_KernelArg, ptr %3, i32 0, i32 0
  %5 = load ptr, ptr %4, align 8, !invariant.load !3, !dereferenceable !4
  %6 = getelementptr inbounds %XLA_CPU_KernelArg, ptr %3, i32 1, i32 0
  %7 = load ptr, ptr %6, align 8, !invariant.load !3, !dereferenceable !5
  %8 = getelementptr inbounds %XLA_CPU_KernelArg, ptr %3, i32 2, i32 0
  %9 = load ptr, ptr %8, align 8, !invariant.load !3, !dereferenceable !5
  %10 = getelementptr inbounds %XLA_CPU_KernelArg, ptr %3, i32 3, i32 0
  %11 = load ptr, ptr %10, align 8, !invariant.load !3, !dereferenceable !4
  %12 = getelementptr inbounds %XLA_CPU_KernelCallFrame, ptr %0, i32 0, i32 1
  %13 = load ptr, ptr %12, align 8
  %14 = getelementptr inbounds %kernel_dim3, ptr %13, i32 0, i32 0
  %15 = load i64, ptr %14, align 4, !invariant.load !3
  %16 = getelementptr inbounds %kernel_dim3, ptr %13, i32 0, i32 1
  %17 = load i64, ptr %16, align 4, !invariant.load !3
  %18 = getelementptr inbounds %kernel_dim3, ptr %13, i32 0, i32 2
  %19 = load i64, ptr %18, align 4, !invariant.load !3
  call void @multiply_subtract_fusion_wrapped(ptr %5, ptr %7, ptr %9, ptr %11, i64 %15, i64 %17, i64 %19)
  ret ptr null
}

; Function Attrs: alwaysinline
define internal void @multiply_subtract_fusion_wrapped(ptr noalias align 64 dereferenceable(64) %0, ptr noalias align 64 dereferenceable(256) %1, ptr noalias align 64 dereferenceable(256) %2, ptr noalias align 64 dereferenceable(64) %3, i64 %4, i64 %5, i64 %6) #1 {
  br label %8

8:                                                ; preds = %30, %7
  %9 = phi i64 [ %34, %30 ], [ 0, %7 ]
  %10 = icmp slt i64 %9, 16
  br i1 %10, label %11, label %35

11:                                               ; preds = %8
  %12 = getelementptr inbounds [16 x float], ptr %0, i32 0, i64 %9
  %13 = load float, ptr %12, align 4, !invariant.load !3
  br label %14

14:                                               ; preds = %18, %11
  %15 = phi i64 [ %29, %18 ], [ 0, %11 ]
  %16 = phi float [ %28, %18 ], [ 0.000000e+00, %11 ]
  %17 = icmp slt i64 %15, 4
  br i1 %17, label %18, label %30

18:                                               ; preds = %14
  %19 = mul nsw i64 %15, 16
  %20 = add nsw i64 %9, %19
  %21 = getelementptr inbounds [64 x float], ptr %2, i32 0, i64 %20
  %22 = load float, ptr %21, align 4, !invariant.load !3
  %23 = fadd float %22, %13
  %24 = getelementptr inbounds [64 x float], ptr %1, i32 0, i64 %20
  %25 = load float, ptr %24, align 4, !invariant.load !3
  %26 = fsub float %23, %25
  %27 = fmul float %26, 3.125000e-02
  %28 = fadd reassoc float %16, %27
  %29 = add i64 %15, 1
  br label %14

30:                                               ; preds = %14
  %31 = fmul float %16, f0x3C23D70A
  %32 = fsub float %13, %31
  %33 = getelementptr inbounds [16 x float], ptr %3, i32 0, i64 %9
  store float %32, ptr %33, align 4
  %34 = add i64 %9, 1
  br label %8, !llvm.loop !6

35:                                               ; preds = %8
  ret void
}

attributes #0 = { uwtable "frame-pointer"="all" "prefer-vector-width"="256" }
attributes #1 = { alwaysinline }

!llvm.module.flags = !{!0, !1}
!xla_cpu_memory_region_name = !{!2}

!0 = !{i32 2, !"Debug Info Version", i32 3}
!1 = !{i32 1, !"xla_dylib_index", i64 1}
!2 = !{!"xla_cpu_emitter__loop_fusion_kernel_emitter__hlo_opcode__fusion"}
!3 = !{}
!4 = !{i64 64}
!5 = !{i64 256}
!6 = distinct !{!6, !7}
!7 = !{!"llvm.loop.unroll.disable"}
