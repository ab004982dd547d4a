; ModuleID = '__compute_module_multiply_add_fusion_kernel_module'
source_filename = "__compute_module_multiply_add_fusion_kernel_module"
target datalayout = "e-m:e-p270:32:32-p271:32:32-p272:64:64-i64:64-i128:128-f80:128-n8:16:32:64-S128"
target triple = "x86_64-unknown-linux-gnu"

; Function Attrs: nofree norecurse nosync nounwind memory(readwrite, target_mem: none) uwtable
define noalias noundef ptr @multiply_add_fusion(ptr nofree readonly captures(none) %0) local_unnamed_addr #0 {
vector.ph:
  %1 = getelementptr inbounds nuw i8, ptr %0, i64 24
  %2 = load ptr, ptr %1, align 8, !invariant.load !3
  %3 = load ptr, ptr %2, align 8, !invariant.load !3, !dereferenceable !4
  %4 = getelementptr inbounds nuw i8, ptr %2, i64 16
  %5 = load ptr, ptr %4, align 8, !invariant.load !3, !dereferenceable !4
  %6 = getelementptr inbounds nuw i8, ptr %2, i64 48
  %7 = load ptr, ptr %6, align 8, !invariant.load !3, !dereferenceable !4
  tail call void @llvm.experimental.noalias.scope.decl(metadata !5)
  tail call void @llvm.experimental.noalias.scope.decl(metadata !8)
  tail call void @llvm.experimental.noalias.scope.decl(metadata !10)
  tail call void @llvm.experimental.noalias.scope.decl(metadata !12)
  %8 = getelementptr inbounds nuw i8, ptr %2, i64 32
  %9 = load ptr, ptr %8, align 8, !invariant.load !3, !dereferenceable !14
  %10 = getelementptr inbounds nuw i8, ptr %9, i64 60
  %11 = load float, ptr %10, align 4, !invariant.load !3, !alias.scope !10, !noalias !15
  %broadcast.splatinsert30 = insertelement <4 x float> poison, float %11, i64 0
  %broadcast.splat31 = shufflevector <4 x float> %broadcast.splatinsert30, <4 x float> poison, <4 x i32> zeroinitializer
  %12 = getelementptr inbounds nuw i8, ptr %9, i64 56
  %13 = load float, ptr %12, align 4, !invariant.load !3, !alias.scope !10, !noalias !15
  %broadcast.splatinsert28 = insertelement <4 x float> poison, float %13, i64 0
  %broadcast.splat29 = shufflevector <4 x float> %broadcast.splatinsert28, <4 x float> poison, <4 x i32> zeroinitializer
  %14 = getelementptr inbounds nuw i8, ptr %9, i64 52
  %15 = load float, ptr %14, align 4, !invariant.load !3, !alias.scope !10, !noalias !15
  %broadcast.splatinsert26 = insertelement <4 x float> poison, float %15, i64 0
  %broadcast.splat27 = shufflevector <4 x float> %broadcast.splatinsert26, <4 x float> poison, <4 x i32> zeroinitializer
  %16 = getelementptr inbounds nuw i8, ptr %9, i64 48
  %17 = load <4 x float>, ptr %16, align 4
  %broadcast.splat25 = shufflevector <4 x float> %17, <4 x float> poison, <4 x i32> zeroinitializer
  %18 = getelementptr inbounds nuw i8, ptr %9, i64 44
  %19 = load <4 x float>, ptr %18, align 4
  %broadcast.splat23 = shufflevector <4 x float> %19, <4 x float> poison, <4 x i32> zeroinitializer
  %20 = getelementptr inbounds nuw i8, ptr %9, i64 40
  %21 = load <4 x float>, ptr %20, align 4
  %broadcast.splat21 = shufflevector <4 x float> %21, <4 x float> poison, <4 x i32> zeroinitializer
  %22 = getelementptr inbounds nuw i8, ptr %9, i64 36
  %23 = load <4 x float>, ptr %22, align 4
  %broadcast.splat19 = shufflevector <4 x float> %23, <4 x float> poison, <4 x i32> zeroinitializer
  %24 = getelementptr inbounds nuw i8, ptr %9, i64 32
  %25 = load <4 x float>, ptr %24, align 4
  %broadcast.splat17 = shufflevector <4 x float> %25, <4 x float> poison, <4 x i32> zeroinitializer
  %26 = getelementptr inbounds nuw i8, ptr %9, i64 28
  %27 = load <4 x float>, ptr %26, align 4
  %broadcast.splat15 = shufflevector <4 x float> %27, <4 x float> poison, <4 x i32> zeroinitializer
  %28 = getelementptr inbounds nuw i8, ptr %9, i64 24
  %29 = load <4 x float>, ptr %28, align 4
  %broadcast.splat13 = shufflevector <4 x float> %29, <4 x float> poison, <4 x i32> zeroinitializer
  %30 = getelementptr inbounds nuw i8, ptr %9, i64 20
  %31 = load <4 x float>, ptr %30, align 4
  %broadcast.splat11 = shufflevector <4 x float> %31, <4 x float> poison, <4 x i32> zeroinitializer
  %32 = getelementptr inbounds nuw i8, ptr %9, i64 16
  %33 = load <4 x float>, ptr %32, align 4
  %broadcast.splat9 = shufflevector <4 x float> %33, <4 x float> poison, <4 x i32> zeroinitializer
  %34 = getelementptr inbounds nuw i8, ptr %9, i64 12
  %35 = load <4 x float>, ptr %34, align 4
  %broadcast.splat7 = shufflevector <4 x float> %35, <4 x float> poison, <4 x i32> zeroinitializer
  %36 = getelementptr inbounds nuw i8, ptr %9, i64 8
  %37 = load <4 x float>, ptr %36, align 4
  %broadcast.splat5 = shufflevector <4 x float> %37, <4 x float> poison, <4 x i32> zeroinitializer
  %38 = getelementptr inbounds nuw i8, ptr %9, i64 4
  %39 = load <4 x float>, ptr %38, align 4
  %broadcast.splat3 = shufflevector <4 x float> %39, <4 x float> poison, <4 x i32> zeroinitializer
  %40 = load <4 x float>, ptr %9, align 4
  %broadcast.splat = shufflevector <4 x float> %40, <4 x float> poison, <4 x i32> zeroinitializer
  %41 = getelementptr inbounds nuw i8, ptr %3, i64 64
  %42 = getelementptr inbounds nuw i8, ptr %3, i64 128
  %43 = getelementptr inbounds nuw i8, ptr %3, i64 192
  %44 = load <4 x float>, ptr %3, align 4
  %45 = load float, ptr %41, align 4, !invariant.load !3, !alias.scope !5, !noalias !16
  %46 = load float, ptr %42, align 4, !invariant.load !3, !alias.scope !5, !noalias !16
  %47 = load float, ptr %43, align 4, !invariant.load !3, !alias.scope !5, !noalias !16
  %48 = insertelement <4 x float> %44, float %45, i64 1
  %49 = insertelement <4 x float> %48, float %46, i64 2
  %50 = insertelement <4 x float> %49, float %47, i64 3
  %51 = fadd <4 x float> %broadcast.splat, %50
  %52 = getelementptr inbounds nuw i8, ptr %5, i64 64
  %53 = getelementptr inbounds nuw i8, ptr %5, i64 128
  %54 = getelementptr inbounds nuw i8, ptr %5, i64 192
  %55 = load <4 x float>, ptr %5, align 4
  %56 = load float, ptr %52, align 4, !invariant.load !3, !alias.scope !8, !noalias !17
  %57 = load float, ptr %53, align 4, !invariant.load !3, !alias.scope !8, !noalias !17
  %58 = load float, ptr %54, align 4, !invariant.load !3, !alias.scope !8, !noalias !17
  %59 = insertelement <4 x float> %55, float %56, i64 1
  %60 = insertelement <4 x float> %59, float %57, i64 2
  %61 = insertelement <4 x float> %60, float %58, i64 3
  %62 = fsub <4 x float> %51, %61
  %63 = fmul <4 x float> %62, splat (float 3.125000e-02)
  %64 = fsub <4 x float> splat (float 1.000000e+00), %50
  %65 = fmul <4 x float> %64, %63
  %66 = fmul <4 x float> %50, %65
  %67 = fadd <4 x float> %65, %66
  %68 = extractelement <4 x float> %67, i64 0
  %69 = extractelement <4 x float> %67, i64 1
  %70 = extractelement <4 x float> %67, i64 2
  %71 = extractelement <4 x float> %67, i64 3
  %72 = getelementptr inbounds nuw i8, ptr %7, i64 64
  %73 = getelementptr inbounds nuw i8, ptr %7, i64 128
  %74 = getelementptr inbounds nuw i8, ptr %7, i64 192
  store float %68, ptr %7, align 4, !alias.scope !12, !noalias !18
  store float %69, ptr %72, align 4, !alias.scope !12, !noalias !18
  store float %70, ptr %73, align 4, !alias.scope !12, !noalias !18
  store float %71, ptr %74, align 4, !alias.scope !12, !noalias !18
  %75 = getelementptr inbounds nuw i8, ptr %3, i64 4
  %76 = getelementptr inbounds nuw i8, ptr %3, i64 68
  %77 = getelementptr inbounds nuw i8, ptr %3, i64 132
  %78 = getelementptr inbounds nuw i8, ptr %3, i64 196
  %79 = load <4 x float>, ptr %75, align 4
  %80 = load float, ptr %76, align 4, !invariant.load !3, !alias.scope !5, !noalias !16
  %81 = load float, ptr %77, align 4, !invariant.load !3, !alias.scope !5, !noalias !16
  %82 = load float, ptr %78, align 4, !invariant.load !3, !alias.scope !5, !noalias !16
  %83 = insertelement <4 x float> %79, float %80, i64 1
  %84 = insertelement <4 x float> %83, float %81, i64 2
  %85 = insertelement <4 x float> %84, float %82, i64 3
  %86 = fadd <4 x float> %broadcast.splat3, %85
  %87 = getelementptr inbounds nuw i8, ptr %5, i64 4
  %88 = getelementptr inbounds nuw i8, ptr %5, i64 68
  %89 = getelementptr inbounds nuw i8, ptr %5, i64 132
  %90 = getelementptr inbounds nuw i8, ptr %5, i64 196
  %91 = load <4 x float>, ptr %87, align 4
  %92 = load float, ptr %88, align 4, !invariant.load !3, !alias.scope !8, !noalias !17
  %93 = load float, ptr %89, align 4, !invariant.load !3, !alias.scope !8, !noalias !17
  %94 = load float, ptr %90, align 4, !invariant.load !3, !alias.scope !8, !noalias !17
  %95 = insertelement <4 x float> %91, float %92, i64 1
  %96 = insertelement <4 x float> %95, float %93, i64 2
  %97 = insertelement <4 x float> %96, float %94, i64 3
  %98 = fsub <4 x float> %86, %97
  %99 = fmul <4 x float> %98, splat (float 3.125000e-02)
  %100 = fsub <4 x float> splat (float 1.000000e+00), %85
  %101 = fmul <4 x float> %100, %99
  %102 = fmul <4 x float> %85, %101
  %103 = fadd <4 x float> %101, %102
  %104 = extractelement <4 x float> %103, i64 0
  %105 = extractelement <4 x float> %103, i64 1
  %106 = extractelement <4 x float> %103, i64 2
  %107 = extractelement <4 x float> %103, i64 3
  %108 = getelementptr inbounds nuw i8, ptr %7, i64 4
  %109 = getelementptr inbounds nuw i8, ptr %7, i64 68
  %110 = getelementptr inbounds nuw i8, ptr %7, i64 132
  %111 = getelementptr inbounds nuw i8, ptr %7, i64 196
  store float %104, ptr %108, align 4, !alias.scope !12, !noalias !18
  store float %105, ptr %109, align 4, !alias.scope !12, !noalias !18
  store float %106, ptr %110, align 4, !alias.scope !12, !noalias !18
  store float %107, ptr %111, align 4, !alias.scope !12, !noalias !18
  %112 = getelementptr inbounds nuw i8, ptr %3, i64 8
  %113 = getelementptr inbounds nuw i8, ptr %3, i64 72
  %114 = getelementptr inbounds nuw i8, ptr %3, i64 136
  %115 = getelementptr inbounds nuw i8, ptr %3, i64 200
  %116 = load <4 x float>, ptr %112, align 4
  %117 = load float, ptr %113, align 4, !invariant.load !3, !alias.scope !5, !noalias !16
  %118 = load float, ptr %114, align 4, !invariant.load !3, !alias.scope !5, !noalias !16
  %119 = load float, ptr %115, align 4, !invariant.load !3, !alias.scope !5, !noalias !16
  %120 = insertelement <4 x float> %116, float %117, i64 1
  %121 = insertelement <4 x float> %120, float %118, i64 2
  %122 = insertelement <4 x float> %121, float %119, i64 3
  %123 = fadd <4 x float> %broadcast.splat5, %122
  %124 = getelementptr inbounds nuw i8, ptr %5, i64 8
  %125 = getelementptr inbounds nuw i8, ptr %5, i64 72
  %126 = getelementptr inbounds nuw i8, ptr %5, i64 136
  %127 = getelementptr inbounds nuw i8, ptr %5, i64 200
  %128 = load <4 x float>, ptr %124, align 4
  %129 = load float, ptr %125, align 4, !invariant.load !3, !alias.scope !8, !noalias !17
  %130 = load float, ptr %126, align 4, !invariant.load !3, !alias.scope !8, !noalias !17
  %131 = load float, ptr %127, align 4, !invariant.load !3, !alias.scope !8, !noalias !17
  %132 = insertelement <4 x float> %128, float %129, i64 1
  %133 = insertelement <4 x float> %132, float %130, i64 2
  %134 = insertelement <4 x float> %133, float %131, i64 3
  %135 = fsub <4 x float> %123, %134
  %136 = fmul <4 x float> %135, splat (float 3.125000e-02)
  %137 = fsub <4 x float> splat (float 1.000000e+00), %122
  %138 = fmul <4 x float> %137, %136
  %139 = fmul <4 x float> %122, %138
  %140 = fadd <4 x float> %138, %139
  %141 = extractelement <4 x float> %140, i64 0
  %142 = extractelement <4 x float> %140, i64 1
  %143 = extractelement <4 x float> %140, i64 2
  %144 = extractelement <4 x float> %140, i64 3
  %145 = getelementptr inbounds nuw i8, ptr %7, i64 8
  %146 = getelementptr inbounds nuw i8, ptr %7, i64 72
  %147 = getelementptr inbounds nuw i8, ptr %7, i64 136
  %148 = getelementptr inbounds nuw i8, ptr %7, i64 200
  store float %141, ptr %145, align 4, !alias.scope !12, !noalias !18
  store float %142, ptr %146, align 4, !alias.scope !12, !noalias !18
  store float %143, ptr %147, align 4, !alias.scope !12, !noalias !18
  store float %144, ptr %148, align 4, !alias.scope !12, !noalias !18
  %149 = getelementptr inbounds nuw i8, ptr %3, i64 12
  %150 = getelementptr inbounds nuw i8, ptr %3, i64 76
  %151 = getelementptr inbounds nuw i8, ptr %3, i64 140
  %152 = getelementptr inbounds nuw i8, ptr %3, i64 204
  %153 = load <4 x float>, ptr %149, align 4
  %154 = load float, ptr %150, align 4, !invariant.load !3, !alias.scope !5, !noalias !16
  %155 = load float, ptr %151, align 4, !invariant.load !3, !alias.scope !5, !noalias !16
  %156 = load float, ptr %152, align 4, !invariant.load !3, !alias.scope !5, !noalias !16
  %157 = insertelement <4 x float> %153, float %154, i64 1
  %158 = insertelement <4 x float> %157, float %155, i64 2
  %159 = insertelement <4 x float> %158, float %156, i64 3
  %160 = fadd <4 x float> %broadcast.splat7, %159
  %161 = getelementptr inbounds nuw i8, ptr %5, i64 12
  %162 = getelementptr inbounds nuw i8, ptr %5, i64 76
  %163 = getelementptr inbounds nuw i8, ptr %5, i64 140
  %164 = getelementptr inbounds nuw i8, ptr %5, i64 204
  %165 = load <4 x float>, ptr %161, align 4
  %166 = load float, ptr %162, align 4, !invariant.load !3, !alias.scope !8, !noalias !17
  %167 = load float, ptr %163, align 4, !invariant.load !3, !alias.scope !8, !noalias !17
  %168 = load float, ptr %164, align 4, !invariant.load !3, !alias.scope !8, !noalias !17
  %169 = insertelement <4 x float> %165, float %166, i64 1
  %170 = insertelement <4 x float> %169, float %167, i64 2
  %171 = insertelement <4 x float> %170, float %168, i64 3
  %172 = fsub <4 x float> %160, %171
  %173 = fmul <4 x float> %172, splat (float 3.125000e-02)
  %174 = fsub <4 x float> splat (float 1.000000e+00), %159
  %175 = fmul <4 x float> %174, %173
  %176 = fmul <4 x float> %159, %175
  %177 = fadd <4 x float> %175, %176
  %178 = extractelement <4 x float> %177, i64 0
  %179 = extractelement <4 x float> %177, i64 1
  %180 = extractelement <4 x float> %177, i64 2
  %181 = extractelement <4 x float> %177, i64 3
  %182 = getelementptr inbounds nuw i8, ptr %7, i64 12
  %183 = getelementptr inbounds nuw i8, ptr %7, i64 76
  %184 = getelementptr inbounds nuw i8, ptr %7, i64 140
  %185 = getelementptr inbounds nuw i8, ptr %7, i64 204
  store float %178, ptr %182, align 4, !alias.scope !12, !noalias !18
  store float %179, ptr %183, align 4, !alias.scope !12, !noalias !18
  store float %180, ptr %184, align 4, !alias.scope !12, !noalias !18
  store float %181, ptr %185, align 4, !alias.scope !12, !noalias !18
  %186 = getelementptr inbounds nuw i8, ptr %3, i64 16
  %187 = getelementptr inbounds nuw i8, ptr %3, i64 80
  %188 = getelementptr inbounds nuw i8, ptr %3, i64 144
  %189 = getelementptr inbounds nuw i8, ptr %3, i64 208
  %190 = load <4 x float>, ptr %186, align 4
  %191 = load float, ptr %187, align 4, !invariant.load !3, !alias.scope !5, !noalias !16
  %192 = load float, ptr %188, align 4, !invariant.load !3, !alias.scope !5, !noalias !16
  %193 = load float, ptr %189, align 4, !invariant.load !3, !alias.scope !5, !noalias !16
  %194 = insertelement <4 x float> %190, float %191, i64 1
  %195 = insertelement <4 x float> %194, float %192, i64 2
  %196 = insertelement <4 x float> %195, float %193, i64 3
  %197 = fadd <4 x float> %broadcast.splat9, %196
  %198 = getelementptr inbounds nuw i8, ptr %5, i64 16
  %199 = getelementptr inbounds nuw i8, ptr %5, i64 80
  %200 = getelementptr inbounds nuw i8, ptr %5, i64 144
  %201 = getelementptr inbounds nuw i8, ptr %5, i64 208
  %202 = load <4 x float>, ptr %198, align 4
  %203 = load float, ptr %199, align 4, !invariant.load !3, !alias.scope !8, !noalias !17
  %204 = load float, ptr %200, align 4, !invariant.load !3, !alias.scope !8, !noalias !17
  %205 = load float, ptr %201, align 4, !invariant.load !3, !alias.scope !8, !noalias !17
  %206 = insertelement <4 x float> %202, float %203, i64 1
  %207 = insertelement <4 x float> %206, float %204, i64 2
  %208 = insertelement <4 x float> %207, float %205, i64 3
  %209 = fsub <4 x float> %197, %208
  %210 = fmul <4 x float> %209, splat (float 3.125000e-02)
  %211 = fsub <4 x float> splat (float 1.000000e+00), %196
  %212 = fmul <4 x float> %211, %210
  %213 = fmul <4 x float> %196, %212
  %214 = fadd <4 x float> %212, %213
  %215 = extractelement <4 x float> %214, i64 0
  %216 = extractelement <4 x float> %214, i64 1
  %217 = extractelement <4 x float> %214, i64 2
  %218 = extractelement <4 x float> %214, i64 3
  %219 = getelementptr inbounds nuw i8, ptr %7, i64 16
  %220 = getelementptr inbounds nuw i8, ptr %7, i64 80
  %221 = getelementptr inbounds nuw i8, ptr %7, i64 144
  %222 = getelementptr inbounds nuw i8, ptr %7, i64 208
  store float %215, ptr %219, align 4, !alias.scope !12, !noalias !18
  store float %216, ptr %220, align 4, !alias.scope !12, !noalias !18
  store float %217, ptr %221, align 4, !alias.scope !12, !noalias !18
  store float %218, ptr %222, align 4, !alias.scope !12, !noalias !18
  %223 = getelementptr inbounds nuw i8, ptr %3, i64 20
  %224 = getelementptr inbounds nuw i8, ptr %3, i64 84
  %225 = getelementptr inbounds nuw i8, ptr %3, i64 148
  %226 = getelementptr inbounds nuw i8, ptr %3, i64 212
  %227 = load <4 x float>, ptr %223, align 4
  %228 = load float, ptr %224, align 4, !invariant.load !3, !alias.scope !5, !noalias !16
  %229 = load float, ptr %225, align 4, !invariant.load !3, !alias.scope !5, !noalias !16
  %230 = load float, ptr %226, align 4, !invariant.load !3, !alias.scope !5, !noalias !16
  %231 = insertelement <4 x float> %227, float %228, i64 1
  %232 = insertelement <4 x float> %231, float %229, i64 2
  %233 = insertelement <4 x float> %232, float %230, i64 3
  %234 = fadd <4 x float> %broadcast.splat11, %233
  %235 = getelementptr inbounds nuw i8, ptr %5, i64 20
  %236 = getelementptr inbounds nuw i8, ptr %5, i64 84
  %237 = getelementptr inbounds nuw i8, ptr %5, i64 148
  %238 = getelementptr inbounds nuw i8, ptr %5, i64 212
  %239 = load <4 x float>, ptr %235, align 4
  %240 = load float, ptr %236, align 4, !invariant.load !3, !alias.scope !8, !noalias !17
  %241 = load float, ptr %237, align 4, !invariant.load !3, !alias.scope !8, !noalias !17
  %242 = load float, ptr %238, align 4, !invariant.load !3, !alias.scope !8, !noalias !17
  %243 = insertelement <4 x float> %239, float %240, i64 1
  %244 = insertelement <4 x float> %243, float %241, i64 2
  %245 = insertelement <4 x float> %244, float %242, i64 3
  %246 = fsub <4 x float> %234, %245
  %247 = fmul <4 x float> %246, splat (float 3.125000e-02)
  %248 = fsub <4 x float> splat (float 1.000000e+00), %233
  %249 = fmul <4 x float> %248, %247
  %250 = fmul <4 x float> %233, %249
  %251 = fadd <4 x float> %249, %250
  %252 = extractelement <4 x float> %251, i64 0
  %253 = extractelement <4 x float> %251, i64 1
  %254 = extractelement <4 x float> %251, i64 2
  %255 = extractelement <4 x float> %251, i64 3
  %256 = getelementptr inbounds nuw i8, ptr %7, i64 20
  %257 = getelementptr inbounds nuw i8, ptr %7, i64 84
  %258 = getelementptr inbounds nuw i8, ptr %7, i64 148
  %259 = getelementptr inbounds nuw i8, ptr %7, i64 212
  store float %252, ptr %256, align 4, !alias.scope !12, !noalias !18
  store float %253, ptr %257, align 4, !alias.scope !12, !noalias !18
  store float %254, ptr %258, align 4, !alias.scope !12, !noalias !18
  store float %255, ptr %259, align 4, !alias.scope !12, !noalias !18
  %260 = getelementptr inbounds nuw i8, ptr %3, i64 24
  %261 = getelementptr inbounds nuw i8, ptr %3, i64 88
  %262 = getelementptr inbounds nuw i8, ptr %3, i64 152
  %263 = getelementptr inbounds nuw i8, ptr %3, i64 216
  %264 = load <4 x float>, ptr %260, align 4
  %265 = load float, ptr %261, align 4, !invariant.load !3, !alias.scope !5, !noalias !16
  %266 = load float, ptr %262, align 4, !invariant.load !3, !alias.scope !5, !noalias !16
  %267 = load float, ptr %263, align 4, !invariant.load !3, !alias.scope !5, !noalias !16
  %268 = insertelement <4 x float> %264, float %265, i64 1
  %269 = insertelement <4 x float> %268, float %266, i64 2
  %270 = insertelement <4 x float> %269, float %267, i64 3
  %271 = fadd <4 x float> %broadcast.splat13, %270
  %272 = getelementptr inbounds nuw i8, ptr %5, i64 24
  %273 = getelementptr inbounds nuw i8, ptr %5, i64 88
  %274 = getelementptr inbounds nuw i8, ptr %5, i64 152
  %275 = getelementptr inbounds nuw i8, ptr %5, i64 216
  %276 = load <4 x float>, ptr %272, align 4
  %277 = load float, ptr %273, align 4, !invariant.load !3, !alias.scope !8, !noalias !17
  %278 = load float, ptr %274, align 4, !invariant.load !3, !alias.scope !8, !noalias !17
  %279 = load float, ptr %275, align 4, !invariant.load !3, !alias.scope !8, !noalias !17
  %280 = insertelement <4 x float> %276, float %277, i64 1
  %281 = insertelement <4 x float> %280, float %278, i64 2
  %282 = insertelement <4 x float> %281, float %279, i64 3
  %283 = fsub <4 x float> %271, %282
  %284 = fmul <4 x float> %283, splat (float 3.125000e-02)
  %285 = fsub <4 x float> splat (float 1.000000e+00), %270
  %286 = fmul <4 x float> %285, %284
  %287 = fmul <4 x float> %270, %286
  %288 = fadd <4 x float> %286, %287
  %289 = extractelement <4 x float> %288, i64 0
  %290 = extractelement <4 x float> %288, i64 1
  %291 = extractelement <4 x float> %288, i64 2
  %292 = extractelement <4 x float> %288, i64 3
  %293 = getelementptr inbounds nuw i8, ptr %7, i64 24
  %294 = getelementptr inbounds nuw i8, ptr %7, i64 88
  %295 = getelementptr inbounds nuw i8, ptr %7, i64 152
  %296 = getelementptr inbounds nuw i8, ptr %7, i64 216
  store float %289, ptr %293, align 4, !alias.scope !12, !noalias !18
  store float %290, ptr %294, align 4, !alias.scope !12, !noalias !18
  store float %291, ptr %295, align 4, !alias.scope !12, !noalias !18
  store float %292, ptr %296, align 4, !alias.scope !12, !noalias !18
  %297 = getelementptr inbounds nuw i8, ptr %3, i64 28
  %298 = getelementptr inbounds nuw i8, ptr %3, i64 92
  %299 = getelementptr inbounds nuw i8, ptr %3, i64 156
  %300 = getelementptr inbounds nuw i8, ptr %3, i64 220
  %301 = load <4 x float>, ptr %297, align 4
  %302 = load float, ptr %298, align 4, !invariant.load !3, !alias.scope !5, !noalias !16
  %303 = load float, ptr %299, align 4, !invariant.load !3, !alias.scope !5, !noalias !16
  %304 = load float, ptr %300, align 4, !invariant.load !3, !alias.scope !5, !noalias !16
  %305 = insertelement <4 x float> %301, float %302, i64 1
  %306 = insertelement <4 x float> %305, float %303, i64 2
  %307 = insertelement <4 x float> %306, float %304, i64 3
  %308 = fadd <4 x float> %broadcast.splat15, %307
  %309 = getelementptr inbounds nuw i8, ptr %5, i64 28
  %310 = getelementptr inbounds nuw i8, ptr %5, i64 92
  %311 = getelementptr inbounds nuw i8, ptr %5, i64 156
  %312 = getelementptr inbounds nuw i8, ptr %5, i64 220
  %313 = load <4 x float>, ptr %309, align 4
  %314 = load float, ptr %310, align 4, !invariant.load !3, !alias.scope !8, !noalias !17
  %315 = load float, ptr %311, align 4, !invariant.load !3, !alias.scope !8, !noalias !17
  %316 = load float, ptr %312, align 4, !invariant.load !3, !alias.scope !8, !noalias !17
  %317 = insertelement <4 x float> %313, float %314, i64 1
  %318 = insertelement <4 x float> %317, float %315, i64 2
  %319 = insertelement <4 x float> %318, float %316, i64 3
  %320 = fsub <4 x float> %308, %319
  %321 = fmul <4 x float> %320, splat (float 3.125000e-02)
  %322 = fsub <4 x float> splat (float 1.000000e+00), %307
  %323 = fmul <4 x float> %322, %321
  %324 = fmul <4 x float> %307, %323
  %325 = fadd <4 x float> %323, %324
  %326 = extractelement <4 x float> %325, i64 0
  %327 = extractelement <4 x float> %325, i64 1
  %328 = extractelement <4 x float> %325, i64 2
  %329 = extractelement <4 x float> %325, i64 3
  %330 = getelementptr inbounds nuw i8, ptr %7, i64 28
  %331 = getelementptr inbounds nuw i8, ptr %7, i64 92
  %332 = getelementptr inbounds nuw i8, ptr %7, i64 156
  %333 = getelementptr inbounds nuw i8, ptr %7, i64 220
  store float %326, ptr %330, align 4, !alias.scope !12, !noalias !18
  store float %327, ptr %331, align 4, !alias.scope !12, !noalias !18
  store float %328, ptr %332, align 4, !alias.scope !12, !noalias !18
  store float %329, ptr %333, align 4, !alias.scope !12, !noalias !18
  %334 = getelementptr inbounds nuw i8, ptr %3, i64 32
  %335 = getelementptr inbounds nuw i8, ptr %3, i64 96
  %336 = getelementptr inbounds nuw i8, ptr %3, i64 160
  %337 = getelementptr inbounds nuw i8, ptr %3, i64 224
  %338 = load <4 x float>, ptr %334, align 4
  %339 = load float, ptr %335, align 4, !invariant.load !3, !alias.scope !5, !noalias !16
  %340 = load float, ptr %336, align 4, !invariant.load !3, !alias.scope !5, !noalias !16
  %341 = load float, ptr %337, align 4, !invariant.load !3, !alias.scope !5, !noalias !16
  %342 = insertelement <4 x float> %338, float %339, i64 1
  %343 = insertelement <4 x float> %342, float %340, i64 2
  %344 = insertelement <4 x float> %343, float %341, i64 3
  %345 = fadd <4 x float> %broadcast.splat17, %344
  %346 = getelementptr inbounds nuw i8, ptr %5, i64 32
  %347 = getelementptr inbounds nuw i8, ptr %5, i64 96
  %348 = getelementptr inbounds nuw i8, ptr %5, i64 160
  %349 = getelementptr inbounds nuw i8, ptr %5, i64 224
  %350 = load <4 x float>, ptr %346, align 4
  %351 = load float, ptr %347, align 4, !invariant.load !3, !alias.scope !8, !noalias !17
  %352 = load float, ptr %348, align 4, !invariant.load !3, !alias.scope !8, !noalias !17
  %353 = load float, ptr %349, align 4, !invariant.load !3, !alias.scope !8, !noalias !17
  %354 = insertelement <4 x float> %350, float %351, i64 1
  %355 = insertelement <4 x float> %354, float %352, i64 2
  %356 = insertelement <4 x float> %355, float %353, i64 3
  %357 = fsub <4 x float> %345, %356
  %358 = fmul <4 x float> %357, splat (float 3.125000e-02)
  %359 = fsub <4 x float> splat (float 1.000000e+00), %344
  %360 = fmul <4 x float> %359, %358
  %361 = fmul <4 x float> %344, %360
  %362 = fadd <4 x float> %360, %361
  %363 = extractelement <4 x float> %362, i64 0
  %364 = extractelement <4 x float> %362, i64 1
  %365 = extractelement <4 x float> %362, i64 2
  %366 = extractelement <4 x float> %362, i64 3
  %367 = getelementptr inbounds nuw i8, ptr %7, i64 32
  %368 = getelementptr inbounds nuw i8, ptr %7, i64 96
  %369 = getelementptr inbounds nuw i8, ptr %7, i64 160
  %370 = getelementptr inbounds nuw i8, ptr %7, i64 224
  store float %363, ptr %367, align 4, !alias.scope !12, !noalias !18
  store float %364, ptr %368, align 4, !alias.scope !12, !noalias !18
  store float %365, ptr %369, align 4, !alias.scope !12, !noalias !18
  store float %366, ptr %370, align 4, !alias.scope !12, !noalias !18
  %371 = getelementptr inbounds nuw i8, ptr %3, i64 36
  %372 = getelementptr inbounds nuw i8, ptr %3, i64 100
  %373 = getelementptr inbounds nuw i8, ptr %3, i64 164
  %374 = getelementptr inbounds nuw i8, ptr %3, i64 228
  %375 = load <4 x float>, ptr %371, align 4
  %376 = load float, ptr %372, align 4, !invariant.load !3, !alias.scope !5, !noalias !16
  %377 = load float, ptr %373, align 4, !invariant.load !3, !alias.scope !5, !noalias !16
  %378 = load float, ptr %374, align 4, !invariant.load !3, !alias.scope !5, !noalias !16
  %379 = insertelement <4 x float> %375, float %376, i64 1
  %380 = insertelement <4 x float> %379, float %377, i64 2
  %381 = insertelement <4 x float> %380, float %378, i64 3
  %382 = fadd <4 x float> %broadcast.splat19, %381
  %383 = getelementptr inbounds nuw i8, ptr %5, i64 36
  %384 = getelementptr inbounds nuw i8, ptr %5, i64 100
  %385 = getelementptr inbounds nuw i8, ptr %5, i64 164
  %386 = getelementptr inbounds nuw i8, ptr %5, i64 228
  %387 = load <4 x float>, ptr %383, align 4
  %388 = load float, ptr %384, align 4, !invariant.load !3, !alias.scope !8, !noalias !17
  %389 = load float, ptr %385, align 4, !invariant.load !3, !alias.scope !8, !noalias !17
  %390 = load float, ptr %386, align 4, !invariant.load !3, !alias.scope !8, !noalias !17
  %391 = insertelement <4 x float> %387, float %388, i64 1
  %392 = insertelement <4 x float> %391, float %389, i64 2
  %393 = insertelement <4 x float> %392, float %390, i64 3
  %394 = fsub <4 x float> %382, %393
  %395 = fmul <4 x float> %394, splat (float 3.125000e-02)
  %396 = fsub <4 x float> splat (float 1.000000e+00), %381
  %397 = fmul <4 x float> %396, %395
  %398 = fmul <4 x float> %381, %397
  %399 = fadd <4 x float> %397, %398
  %400 = extractelement <4 x float> %399, i64 0
  %401 = extractelement <4 x float> %399, i64 1
  %402 = extractelement <4 x float> %399, i64 2
  %403 = extractelement <4 x float> %399, i64 3
  %404 = getelementptr inbounds nuw i8, ptr %7, i64 36
  %405 = getelementptr inbounds nuw i8, ptr %7, i64 100
  %406 = getelementptr inbounds nuw i8, ptr %7, i64 164
  %407 = getelementptr inbounds nuw i8, ptr %7, i64 228
  store float %400, ptr %404, align 4, !alias.scope !12, !noalias !18
  store float %401, ptr %405, align 4, !alias.scope !12, !noalias !18
  store float %402, ptr %406, align 4, !alias.scope !12, !noalias !18
  store float %403, ptr %407, align 4, !alias.scope !12, !noalias !18
  %408 = getelementptr inbounds nuw i8, ptr %3, i64 40
  %409 = getelementptr inbounds nuw i8, ptr %3, i64 104
  %410 = getelementptr inbounds nuw i8, ptr %3, i64 168
  %411 = getelementptr inbounds nuw i8, ptr %3, i64 232
  %412 = load <4 x float>, ptr %408, align 4
  %413 = load float, ptr %409, align 4, !invariant.load !3, !alias.scope !5, !noalias !16
  %414 = load float, ptr %410, align 4, !invariant.load !3, !alias.scope !5, !noalias !16
  %415 = load float, ptr %411, align 4, !invariant.load !3, !alias.scope !5, !noalias !16
  %416 = insertelement <4 x float> %412, float %413, i64 1
  %417 = insertelement <4 x float> %416, float %414, i64 2
  %418 = insertelement <4 x float> %417, float %415, i64 3
  %419 = fadd <4 x float> %broadcast.splat21, %418
  %420 = getelementptr inbounds nuw i8, ptr %5, i64 40
  %421 = getelementptr inbounds nuw i8, ptr %5, i64 104
  %422 = getelementptr inbounds nuw i8, ptr %5, i64 168
  %423 = getelementptr inbounds nuw i8, ptr %5, i64 232
  %424 = load <4 x float>, ptr %420, align 4
  %425 = load float, ptr %421, align 4, !invariant.load !3, !alias.scope !8, !noalias !17
  %426 = load float, ptr %422, align 4, !invariant.load !3, !alias.scope !8, !noalias !17
  %427 = load float, ptr %423, align 4, !invariant.load !3, !alias.scope !8, !noalias !17
  %428 = insertelement <4 x float> %424, float %425, i64 1
  %429 = insertelement <4 x float> %428, float %426, i64 2
  %430 = insertelement <4 x float> %429, float %427, i64 3
  %431 = fsub <4 x float> %419, %430
  %432 = fmul <4 x float> %431, splat (float 3.125000e-02)
  %433 = fsub <4 x float> splat (float 1.000000e+00), %418
  %434 = fmul <4 x float> %433, %432
  %435 = fmul <4 x float> %418, %434
  %436 = fadd <4 x float> %434, %435
  %437 = extractelement <4 x float> %436, i64 0
  %438 = extractelement <4 x float> %436, i64 1
  %439 = extractelement <4 x float> %436, i64 2
  %440 = extractelement <4 x float> %436, i64 3
  %441 = getelementptr inbounds nuw i8, ptr %7, i64 40
  %442 = getelementptr inbounds nuw i8, ptr %7, i64 104
  %443 = getelementptr inbounds nuw i8, ptr %7, i64 168
  %444 = getelementptr inbounds nuw i8, ptr %7, i64 232
  store float %437, ptr %441, align 4, !alias.scope !12, !noalias !18
  store float %438, ptr %442, align 4, !alias.scope !12, !noalias !18
  store float %439, ptr %443, align 4, !alias.scope !12, !noalias !18
  store float %440, ptr %444, align 4, !alias.scope !12, !noalias !18
  %445 = getelementptr inbounds nuw i8, ptr %3, i64 44
  %446 = getelementptr inbounds nuw i8, ptr %3, i64 108
  %447 = getelementptr inbounds nuw i8, ptr %3, i64 172
  %448 = getelementptr inbounds nuw i8, ptr %3, i64 236
  %449 = load <4 x float>, ptr %445, align 4
  %450 = load float, ptr %446, align 4, !invariant.load !3, !alias.scope !5, !noalias !16
  %451 = load float, ptr %447, align 4, !invariant.load !3, !alias.scope !5, !noalias !16
  %452 = load float, ptr %448, align 4, !invariant.load !3, !alias.scope !5, !noalias !16
  %453 = insertelement <4 x float> %449, float %450, i64 1
  %454 = insertelement <4 x float> %453, float %451, i64 2
  %455 = insertelement <4 x float> %454, float %452, i64 3
  %456 = fadd <4 x float> %broadcast.splat23, %455
  %457 = getelementptr inbounds nuw i8, ptr %5, i64 44
  %458 = getelementptr inbounds nuw i8, ptr %5, i64 108
  %459 = getelementptr inbounds nuw i8, ptr %5, i64 172
  %460 = getelementptr inbounds nuw i8, ptr %5, i64 236
  %461 = load <4 x float>, ptr %457, align 4
  %462 = load float, ptr %458, align 4, !invariant.load !3, !alias.scope !8, !noalias !17
  %463 = load float, ptr %459, align 4, !invariant.load !3, !alias.scope !8, !noalias !17
  %464 = load float, ptr %460, align 4, !invariant.load !3, !alias.scope !8, !noalias !17
  %465 = insertelement <4 x float> %461, float %462, i64 1
  %466 = insertelement <4 x float> %465, float %463, i64 2
  %467 = insertelement <4 x float> %466, float %464, i64 3
  %468 = fsub <4 x float> %456, %467
  %469 = fmul <4 x float> %468, splat (float 3.125000e-02)
  %470 = fsub <4 x float> splat (float 1.000000e+00), %455
  %471 = fmul <4 x float> %470, %469
  %472 = fmul <4 x float> %455, %471
  %473 = fadd <4 x float> %471, %472
  %474 = extractelement <4 x float> %473, i64 0
  %475 = extractelement <4 x float> %473, i64 1
  %476 = extractelement <4 x float> %473, i64 2
  %477 = extractelement <4 x float> %473, i64 3
  %478 = getelementptr inbounds nuw i8, ptr %7, i64 44
  %479 = getelementptr inbounds nuw i8, ptr %7, i64 108
  %480 = getelementptr inbounds nuw i8, ptr %7, i64 172
  %481 = getelementptr inbounds nuw i8, ptr %7, i64 236
  store float %474, ptr %478, align 4, !alias.scope !12, !noalias !18
  store float %475, ptr %479, align 4, !alias.scope !12, !noalias !18
  store float %476, ptr %480, align 4, !alias.scope !12, !noalias !18
  store float %477, ptr %481, align 4, !alias.scope !12, !noalias !18
  %482 = getelementptr inbounds nuw i8, ptr %3, i64 48
  %483 = getelementptr inbounds nuw i8, ptr %3, i64 112
  %484 = getelementptr inbounds nuw i8, ptr %3, i64 176
  %485 = getelementptr inbounds nuw i8, ptr %3, i64 240
  %486 = load <4 x float>, ptr %482, align 4
  %487 = load float, ptr %483, align 4, !invariant.load !3, !alias.scope !5, !noalias !16
  %488 = load float, ptr %484, align 4, !invariant.load !3, !alias.scope !5, !noalias !16
  %489 = load float, ptr %485, align 4, !invariant.load !3, !alias.scope !5, !noalias !16
  %490 = insertelement <4 x float> %486, float %487, i64 1
  %491 = insertelement <4 x float> %490, float %488, i64 2
  %492 = insertelement <4 x float> %491, float %489, i64 3
  %493 = fadd <4 x float> %broadcast.splat25, %492
  %494 = getelementptr inbounds nuw i8, ptr %5, i64 48
  %495 = getelementptr inbounds nuw i8, ptr %5, i64 112
  %496 = getelementptr inbounds nuw i8, ptr %5, i64 176
  %497 = getelementptr inbounds nuw i8, ptr %5, i64 240
  %498 = load <4 x float>, ptr %494, align 4
  %499 = load float, ptr %495, align 4, !invariant.load !3, !alias.scope !8, !noalias !17
  %500 = load float, ptr %496, align 4, !invariant.load !3, !alias.scope !8, !noalias !17
  %501 = load float, ptr %497, align 4, !invariant.load !3, !alias.scope !8, !noalias !17
  %502 = insertelement <4 x float> %498, float %499, i64 1
  %503 = insertelement <4 x float> %502, float %500, i64 2
  %504 = insertelement <4 x float> %503, float %501, i64 3
  %505 = fsub <4 x float> %493, %504
  %506 = fmul <4 x float> %505, splat (float 3.125000e-02)
  %507 = fsub <4 x float> splat (float 1.000000e+00), %492
  %508 = fmul <4 x float> %507, %506
  %509 = fmul <4 x float> %492, %508
  %510 = fadd <4 x float> %508, %509
  %511 = extractelement <4 x float> %510, i64 0
  %512 = extractelement <4 x float> %510, i64 1
  %513 = extractelement <4 x float> %510, i64 2
  %514 = extractelement <4 x float> %510, i64 3
  %515 = getelementptr inbounds nuw i8, ptr %7, i64 48
  %516 = getelementptr inbounds nuw i8, ptr %7, i64 112
  %517 = getelementptr inbounds nuw i8, ptr %7, i64 176
  %518 = getelementptr inbounds nuw i8, ptr %7, i64 240
  store float %511, ptr %515, align 4, !alias.scope !12, !noalias !18
  store float %512, ptr %516, align 4, !alias.scope !12, !noalias !18
  store float %513, ptr %517, align 4, !alias.scope !12, !noalias !18
  store float %514, ptr %518, align 4, !alias.scope !12, !noalias !18
  %519 = getelementptr inbounds nuw i8, ptr %3, i64 52
  %520 = getelementptr inbounds nuw i8, ptr %3, i64 116
  %521 = getelementptr inbounds nuw i8, ptr %3, i64 180
  %522 = getelementptr inbounds nuw i8, ptr %3, i64 244
  %523 = load <4 x float>, ptr %519, align 4
  %524 = load float, ptr %520, align 4, !invariant.load !3, !alias.scope !5, !noalias !16
  %525 = load float, ptr %521, align 4, !invariant.load !3, !alias.scope !5, !noalias !16
  %526 = load float, ptr %522, align 4, !invariant.load !3, !alias.scope !5, !noalias !16
  %527 = insertelement <4 x float> %523, float %524, i64 1
  %528 = insertelement <4 x float> %527, float %525, i64 2
  %529 = insertelement <4 x float> %528, float %526, i64 3
  %530 = fadd <4 x float> %broadcast.splat27, %529
  %531 = getelementptr inbounds nuw i8, ptr %5, i64 52
  %532 = getelementptr inbounds nuw i8, ptr %5, i64 116
  %533 = getelementptr inbounds nuw i8, ptr %5, i64 180
  %534 = getelementptr inbounds nuw i8, ptr %5, i64 244
  %535 = load <4 x float>, ptr %531, align 4
  %536 = load float, ptr %532, align 4, !invariant.load !3, !alias.scope !8, !noalias !17
  %537 = load float, ptr %533, align 4, !invariant.load !3, !alias.scope !8, !noalias !17
  %538 = load float, ptr %534, align 4, !invariant.load !3, !alias.scope !8, !noalias !17
  %539 = insertelement <4 x float> %535, float %536, i64 1
  %540 = insertelement <4 x float> %539, float %537, i64 2
  %541 = insertelement <4 x float> %540, float %538, i64 3
  %542 = fsub <4 x float> %530, %541
  %543 = fmul <4 x float> %542, splat (float 3.125000e-02)
  %544 = fsub <4 x float> splat (float 1.000000e+00), %529
  %545 = fmul <4 x float> %544, %543
  %546 = fmul <4 x float> %529, %545
  %547 = fadd <4 x float> %545, %546
  %548 = extractelement <4 x float> %547, i64 0
  %549 = extractelement <4 x float> %547, i64 1
  %550 = extractelement <4 x float> %547, i64 2
  %551 = extractelement <4 x float> %547, i64 3
  %552 = getelementptr inbounds nuw i8, ptr %7, i64 52
  %553 = getelementptr inbounds nuw i8, ptr %7, i64 116
  %554 = getelementptr inbounds nuw i8, ptr %7, i64 180
  %555 = getelementptr inbounds nuw i8, ptr %7, i64 244
  store float %548, ptr %552, align 4, !alias.scope !12, !noalias !18
  store float %549, ptr %553, align 4, !alias.scope !12, !noalias !18
  store float %550, ptr %554, align 4, !alias.scope !12, !noalias !18
  store float %551, ptr %555, align 4, !alias.scope !12, !noalias !18
  %556 = getelementptr inbounds nuw i8, ptr %3, i64 56
  %557 = getelementptr inbounds nuw i8, ptr %3, i64 120
  %558 = getelementptr inbounds nuw i8, ptr %3, i64 184
  %559 = getelementptr inbounds nuw i8, ptr %3, i64 248
  %560 = load <4 x float>, ptr %556, align 4
  %561 = load float, ptr %557, align 4, !invariant.load !3, !alias.scope !5, !noalias !16
  %562 = load float, ptr %558, align 4, !invariant.load !3, !alias.scope !5, !noalias !16
  %563 = load float, ptr %559, align 4, !invariant.load !3, !alias.scope !5, !noalias !16
  %564 = insertelement <4 x float> %560, float %561, i64 1
  %565 = insertelement <4 x float> %564, float %562, i64 2
  %566 = insertelement <4 x float> %565, float %563, i64 3
  %567 = fadd <4 x float> %broadcast.splat29, %566
  %568 = getelementptr inbounds nuw i8, ptr %5, i64 56
  %569 = getelementptr inbounds nuw i8, ptr %5, i64 120
  %570 = getelementptr inbounds nuw i8, ptr %5, i64 184
  %571 = getelementptr inbounds nuw i8, ptr %5, i64 248
  %572 = load <4 x float>, ptr %568, align 4
  %573 = load float, ptr %569, align 4, !invariant.load !3, !alias.scope !8, !noalias !17
  %574 = load float, ptr %570, align 4, !invariant.load !3, !alias.scope !8, !noalias !17
  %575 = load float, ptr %571, align 4, !invariant.load !3, !alias.scope !8, !noalias !17
  %576 = insertelement <4 x float> %572, float %573, i64 1
  %577 = insertelement <4 x float> %576, float %574, i64 2
  %578 = insertelement <4 x float> %577, float %575, i64 3
  %579 = fsub <4 x float> %567, %578
  %580 = fmul <4 x float> %579, splat (float 3.125000e-02)
  %581 = fsub <4 x float> splat (float 1.000000e+00), %566
  %582 = fmul <4 x float> %581, %580
  %583 = fmul <4 x float> %566, %582
  %584 = fadd <4 x float> %582, %583
  %585 = extractelement <4 x float> %584, i64 0
  %586 = extractelement <4 x float> %584, i64 1
  %587 = extractelement <4 x float> %584, i64 2
  %588 = extractelement <4 x float> %584, i64 3
  %589 = getelementptr inbounds nuw i8, ptr %7, i64 56
  %590 = getelementptr inbounds nuw i8, ptr %7, i64 120
  %591 = getelementptr inbounds nuw i8, ptr %7, i64 184
  %592 = getelementptr inbounds nuw i8, ptr %7, i64 248
  store float %585, ptr %589, align 4, !alias.scope !12, !noalias !18
  store float %586, ptr %590, align 4, !alias.scope !12, !noalias !18
  store float %587, ptr %591, align 4, !alias.scope !12, !noalias !18
  store float %588, ptr %592, align 4, !alias.scope !12, !noalias !18
  %593 = getelementptr inbounds nuw i8, ptr %3, i64 60
  %594 = getelementptr inbounds nuw i8, ptr %3, i64 124
  %595 = getelementptr inbounds nuw i8, ptr %3, i64 188
  %596 = getelementptr inbounds nuw i8, ptr %3, i64 252
  %597 = load <4 x float>, ptr %593, align 4
  %598 = load float, ptr %594, align 4, !invariant.load !3, !alias.scope !5, !noalias !16
  %599 = load float, ptr %595, align 4, !invariant.load !3, !alias.scope !5, !noalias !16
  %600 = load float, ptr %596, align 4, !invariant.load !3, !alias.scope !5, !noalias !16
  %601 = insertelement <4 x float> %597, float %598, i64 1
  %602 = insertelement <4 x float> %601, float %599, i64 2
  %603 = insertelement <4 x float> %602, float %600, i64 3
  %604 = fadd <4 x float> %broadcast.splat31, %603
  %605 = getelementptr inbounds nuw i8, ptr %5, i64 60
  %606 = getelementptr inbounds nuw i8, ptr %5, i64 124
  %607 = getelementptr inbounds nuw i8, ptr %5, i64 188
  %608 = getelementptr inbounds nuw i8, ptr %5, i64 252
  %609 = load <4 x float>, ptr %605, align 4
  %610 = load float, ptr %606, align 4, !invariant.load !3, !alias.scope !8, !noalias !17
  %611 = load float, ptr %607, align 4, !invariant.load !3, !alias.scope !8, !noalias !17
  %612 = load float, ptr %608, align 4, !invariant.load !3, !alias.scope !8, !noalias !17
  %613 = insertelement <4 x float> %609, float %610, i64 1
  %614 = insertelement <4 x float> %613, float %611, i64 2
  %615 = insertelement <4 x float> %614, float %612, i64 3
  %616 = fsub <4 x float> %604, %615
  %617 = fmul <4 x float> %616, splat (float 3.125000e-02)
  %618 = fsub <4 x float> splat (float 1.000000e+00), %603
  %619 = fmul <4 x float> %618, %617
  %620 = fmul <4 x float> %603, %619
  %621 = fadd <4 x float> %619, %620
  %622 = extractelement <4 x float> %621, i64 0
  %623 = extractelement <4 x float> %621, i64 1
  %624 = extractelement <4 x float> %621, i64 2
  %625 = extractelement <4 x float> %621, i64 3
  %626 = getelementptr inbounds nuw i8, ptr %7, i64 60
  %627 = getelementptr inbounds nuw i8, ptr %7, i64 124
  %628 = getelementptr inbounds nuw i8, ptr %7, i64 188
  %629 = getelementptr inbounds nuw i8, ptr %7, i64 252
  store float %622, ptr %626, align 4, !alias.scope !12, !noalias !18
  store float %623, ptr %627, align 4, !alias.scope !12, !noalias !18
  store float %624, ptr %628, align 4, !alias.scope !12, !noalias !18
  store float %625, ptr %629, align 4, !alias.scope !12, !noalias !18
  ret ptr null
}

; Function Attrs: mustprogress nocallback nofree nosync nounwind willreturn memory(inaccessiblemem: readwrite)
declare void @llvm.experimental.noalias.scope.decl(metadata) #1

attributes #0 = { nofree norecurse nosync nounwind memory(readwrite, target_mem: none) uwtable "frame-pointer"="all" "prefer-vector-width"="256" }
attributes #1 = { mustprogress nocallback nofree nosync nounwind willreturn memory(inaccessiblemem: readwrite) }

!llvm.module.flags = !{!0, !1}
!xla_cpu_memory_region_name = !{!2}

!0 = !{i32 2, !"Debug Info Version", i32 3}
!1 = !{i32 1, !"xla_dylib_index", i64 0}
!2 = !{!"xla_cpu_emitter__loop_fusion_kernel_emitter__hlo_opcode__fusion"}
!3 = !{}
!4 = !{i64 256}
!5 = !{!6}
!6 = distinct !{!6, !7, !"multiply_add_fusion_wrapped: argument 0"}
!7 = distinct !{!7, !"multiply_add_fusion_wrapped"}
!8 = !{!9}
!9 = distinct !{!9, !7, !"multiply_add_fusion_wrapped: argument 1"}
!10 = !{!11}
!11 = distinct !{!11, !7, !"multiply_add_fusion_wrapped: argument 2"}
!12 = !{!13}
!13 = distinct !{!13, !7, !"multiply_add_fusion_wrapped: argument 3"}
!14 = !{i64 64}
!15 = !{!6, !9, !13}
!16 = !{!9, !11, !13}
!17 = !{!6, !11, !13}
!18 = !{!6, !9, !11}
