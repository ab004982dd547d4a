; ModuleID = '__compute_module_multiply_subtract_fusion_kernel_module'
source_filename = "__compute_module_multiply_subtract_fusion_kernel_module"
target datalayout = "e-m:e-p270:32:32-p271:32:32-p272:64:64-i64:64-i128:128-f80:128-n8:16:32:64-S128"
target triple = "x86_64-unknown-linux-gnu"

; Function Attrs: nofree norecurse nosync nounwind memory(readwrite, target_mem: none) uwtable
define noalias noundef ptr @multiply_subtract_fusion(ptr nofree readonly captures(none) %0) local_unnamed_addr #0 {
vector.ph:
  %1 = getelementptr inbounds nuw i8, ptr %0, i64 24
  %2 = load ptr, ptr %1, align 8, !invariant.load !3
  %3 = load ptr, ptr %2, align 8, !invariant.load !3, !dereferenceable !4
  %4 = getelementptr inbounds nuw i8, ptr %2, i64 16
  %5 = load ptr, ptr %4, align 8, !invariant.load !3, !dereferenceable !5
  %6 = getelementptr inbounds nuw i8, ptr %2, i64 32
  %7 = load ptr, ptr %6, align 8, !invariant.load !3, !dereferenceable !5
  %8 = getelementptr inbounds nuw i8, ptr %2, i64 48
  %9 = load ptr, ptr %8, align 8, !invariant.load !3, !dereferenceable !4
  tail call void @llvm.experimental.noalias.scope.decl(metadata !6)
  tail call void @llvm.experimental.noalias.scope.decl(metadata !9)
  tail call void @llvm.experimental.noalias.scope.decl(metadata !11)
  tail call void @llvm.experimental.noalias.scope.decl(metadata !13)
  br label %vector.body

vector.body:                                      ; preds = %vector.body, %vector.ph
  %index = phi i64 [ 0, %vector.ph ], [ %index.next, %vector.body ]
  %10 = getelementptr inbounds nuw [4 x i8], ptr %3, i64 %index
  %wide.load = load <8 x float>, ptr %10, align 4, !invariant.load !3, !alias.scope !6, !noalias !15
  %11 = getelementptr inbounds nuw [4 x i8], ptr %7, i64 %index
  %wide.load2 = load <8 x float>, ptr %11, align 4, !invariant.load !3, !alias.scope !11, !noalias !16
  %12 = fadd <8 x float> %wide.load, %wide.load2
  %13 = getelementptr inbounds nuw [4 x i8], ptr %5, i64 %index
  %wide.load3 = load <8 x float>, ptr %13, align 4, !invariant.load !3, !alias.scope !9, !noalias !17
  %14 = fsub <8 x float> %12, %wide.load3
  %15 = fmul <8 x float> %14, splat (float 3.125000e-02)
  %16 = fadd reassoc <8 x float> %15, zeroinitializer
  %17 = add nuw nsw i64 %index, 16
  %18 = getelementptr inbounds nuw [4 x i8], ptr %7, i64 %17
  %wide.load4 = load <8 x float>, ptr %18, align 4, !invariant.load !3, !alias.scope !11, !noalias !16
  %19 = fadd <8 x float> %wide.load, %wide.load4
  %20 = getelementptr inbounds nuw [4 x i8], ptr %5, i64 %17
  %wide.load5 = load <8 x float>, ptr %20, align 4, !invariant.load !3, !alias.scope !9, !noalias !17
  %21 = fsub <8 x float> %19, %wide.load5
  %22 = fmul <8 x float> %21, splat (float 3.125000e-02)
  %23 = fadd reassoc <8 x float> %16, %22
  %24 = add nuw nsw i64 %index, 32
  %25 = getelementptr inbounds nuw [4 x i8], ptr %7, i64 %24
  %wide.load6 = load <8 x float>, ptr %25, align 4, !invariant.load !3, !alias.scope !11, !noalias !16
  %26 = fadd <8 x float> %wide.load, %wide.load6
  %27 = getelementptr inbounds nuw [4 x i8], ptr %5, i64 %24
  %wide.load7 = load <8 x float>, ptr %27, align 4, !invariant.load !3, !alias.scope !9, !noalias !17
  %28 = fsub <8 x float> %26, %wide.load7
  %29 = fmul <8 x float> %28, splat (float 3.125000e-02)
  %30 = fadd reassoc <8 x float> %23, %29
  %31 = add nuw nsw i64 %index, 48
  %32 = getelementptr inbounds nuw [4 x i8], ptr %7, i64 %31
  %wide.load8 = load <8 x float>, ptr %32, align 4, !invariant.load !3, !alias.scope !11, !noalias !16
  %33 = fadd <8 x float> %wide.load, %wide.load8
  %34 = getelementptr inbounds nuw [4 x i8], ptr %5, i64 %31
  %wide.load9 = load <8 x float>, ptr %34, align 4, !invariant.load !3, !alias.scope !9, !noalias !17
  %35 = fsub <8 x float> %33, %wide.load9
  %36 = fmul <8 x float> %35, splat (float 3.125000e-02)
  %37 = fadd reassoc <8 x float> %30, %36
  %38 = fmul <8 x float> %37, splat (float f0x3C23D70A)
  %39 = fsub <8 x float> %wide.load, %38
  %40 = getelementptr inbounds nuw [4 x i8], ptr %9, i64 %index
  store <8 x float> %39, ptr %40, align 4, !alias.scope !13, !noalias !18
  %index.next = add nuw i64 %index, 8
  %41 = icmp eq i64 %index.next, 16
  br i1 %41, label %multiply_subtract_fusion_wrapped.exit, label %vector.body, !llvm.loop !19

multiply_subtract_fusion_wrapped.exit:            ; preds = %vector.body
  ret ptr null
}

; Function Attrs: mustprogress nocallback nofree nosync nounwind willreturn memory(inaccessiblemem: readwrite)
declare void @llvm.experimental.noalias.scope.decl(metadata) #1

attributes #0 = { nofree norecurse nosync nounwind memory(readwrite, target_mem: none) uwtable "frame-pointer"="all" "prefer-vector-width"="256" }
attributes #1 = { mustprogress nocallback nofree nosync nounwind willreturn memory(inaccessiblemem: readwrite) }

!llvm.module.flags = !{!0, !1}
!xla_cpu_memory_region_name = !{!2}

!0 = !{i32 2, !"Debug Info Version", i32 3}
!1 = !{i32 1, !"xla_dylib_index", i64 1}
!2 = !{!"xla_cpu_emitter__loop_fusion_kernel_emitter__hlo_opcode__fusion"}
!3 = !{}
!4 = !{i64 64}
!5 = !{i64 256}
!6 = !{!7}
!7 = distinct !{!7, !8, !"multiply_subtract_fusion_wrapped: argument 0"}
!8 = distinct !{!8, !"multiply_subtract_fusion_wrapped"}
!9 = !{!10}
!10 = distinct !{!10, !8, !"multiply_subtract_fusion_wrapped: argument 1"}
!11 = !{!12}
!12 = distinct !{!12, !8, !"multiply_subtract_fusion_wrapped: argument 2"}
!13 = !{!14}
!14 = distinct !{!14, !8, !"multiply_subtract_fusion_wrapped: argument 3"}
!15 = !{!10, !12, !14}
!16 = !{!7, !10, !14}
!17 = !{!7, !12, !14}
!18 = !{!7, !10, !12}
!19 = distinct !{!19, !20, !21, !22}
!20 = !{!"llvm.loop.unroll.disable"}
!21 = !{!"llvm.loop.isvectorized", i32 1}
!22 = !{!"llvm.loop.unroll.runtime.disable"}
