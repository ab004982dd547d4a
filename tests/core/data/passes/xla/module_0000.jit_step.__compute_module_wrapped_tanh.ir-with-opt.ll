; ModuleID = '__compute_module___compute_module_wrapped_tanh'
source_filename = "__compute_module___compute_module_wrapped_tanh"
target datalayout = "e-m:e-p270:32:32-p271:32:32-p272:64:64-i64:64-i128:128-f80:128-n8:16:32:64-S128"
target triple = "x86_64-unknown-linux-gnu"

define noalias noundef ptr @wrapped_tanh(ptr nofree readonly captures(none) %0) local_unnamed_addr {
  %2 = getelementptr inbounds nuw i8, ptr %0, i64 8
  %3 = load ptr, ptr %2, align 8
  %4 = load i64, ptr %3, align 4, !invariant.load !8
  %.not.not = icmp slt i64 %4, 1
  br i1 %.not.not, label %.lr.ph, label %._crit_edge

.lr.ph:                                           ; preds = %1
  %5 = getelementptr inbounds nuw i8, ptr %0, i64 24
  %6 = load ptr, ptr %5, align 8, !invariant.load !8
  %7 = getelementptr inbounds nuw i8, ptr %6, i64 16
  %8 = load ptr, ptr %7, align 8, !invariant.load !8
  %9 = load ptr, ptr %6, align 8, !invariant.load !8
  %savedstack = tail call ptr @llvm.stacksave.p0()
  %.sroa.0.0.copyload = load <8 x float>, ptr %9, align 1
  %.sroa.4.0..sroa_idx = getelementptr inbounds nuw i8, ptr %9, i64 32
  %.sroa.4.0.copyload = load <8 x float>, ptr %.sroa.4.0..sroa_idx, align 1
  %10 = alloca [16 x float], align 64
  %11 = call <8 x float> @llvm.fabs.v8f32(<8 x float> %.sroa.0.0.copyload)
  %12 = fcmp olt <8 x float> %11, splat (float 4.000000e-04)
  %.inv = fcmp olt <8 x float> %.sroa.0.0.copyload, splat (float f0xC0FFF644)
  %13 = select <8 x i1> %.inv, <8 x float> splat (float f0xC0FFF644), <8 x float> %.sroa.0.0.copyload
  %.inv7 = fcmp ogt <8 x float> %13, splat (float f0x40FFF644)
  %14 = select <8 x i1> %.inv7, <8 x float> splat (float f0x40FFF644), <8 x float> %13
  %15 = fmul <8 x float> %14, %14
  %16 = fmul <8 x float> %15, splat (float f0xA59F25C0)
  %17 = fadd <8 x float> %16, splat (float f0x2A61337E)
  %18 = fmul <8 x float> %15, %17
  %19 = fadd <8 x float> %18, splat (float f0xAEBD37FF)
  %20 = fmul <8 x float> %15, %19
  %21 = fadd <8 x float> %20, splat (float f0x335C0041)
  %22 = fmul <8 x float> %15, %21
  %23 = fadd <8 x float> %22, splat (float f0x3779434A)
  %24 = fmul <8 x float> %15, %23
  %25 = fadd <8 x float> %24, splat (float f0x3A270DED)
  %26 = fmul <8 x float> %15, %25
  %27 = fadd <8 x float> %26, splat (float f0x3BA059DC)
  %28 = fmul <8 x float> %14, %27
  %29 = fmul <8 x float> %15, splat (float f0x35A0D3D8)
  %30 = fadd <8 x float> %29, splat (float f0x38F895D6)
  %31 = fmul <8 x float> %15, %30
  %32 = fadd <8 x float> %31, splat (float f0x3B14AA05)
  %33 = fmul <8 x float> %15, %32
  %34 = fadd <8 x float> %33, splat (float f0x3BA059DD)
  %35 = fdiv <8 x float> %28, %34
  %36 = select <8 x i1> %12, <8 x float> %.sroa.0.0.copyload, <8 x float> %35
  %37 = fcmp oge <8 x float> %11, splat (float 2.000000e+01)
  %38 = call <8 x float> @llvm.copysign.v8f32(<8 x float> splat (float 1.000000e+00), <8 x float> %.sroa.0.0.copyload)
  %39 = select <8 x i1> %37, <8 x float> %38, <8 x float> %36
  store <8 x float> %39, ptr %10, align 64
  %40 = call <8 x float> @llvm.fabs.v8f32(<8 x float> %.sroa.4.0.copyload)
  %41 = fcmp olt <8 x float> %40, splat (float 4.000000e-04)
  %.inv8 = fcmp olt <8 x float> %.sroa.4.0.copyload, splat (float f0xC0FFF644)
  %42 = select <8 x i1> %.inv8, <8 x float> splat (float f0xC0FFF644), <8 x float> %.sroa.4.0.copyload
  %.inv9 = fcmp ogt <8 x float> %42, splat (float f0x40FFF644)
  %43 = select <8 x i1> %.inv9, <8 x float> splat (float f0x40FFF644), <8 x float> %42
  %44 = fmul <8 x float> %43, %43
  %45 = fmul <8 x float> %44, splat (float f0xA59F25C0)
  %46 = fadd <8 x float> %45, splat (float f0x2A61337E)
  %47 = fmul <8 x float> %44, %46
  %48 = fadd <8 x float> %47, splat (float f0xAEBD37FF)
  %49 = fmul <8 x float> %44, %48
  %50 = fadd <8 x float> %49, splat (float f0x335C0041)
  %51 = fmul <8 x float> %44, %50
  %52 = fadd <8 x float> %51, splat (float f0x3779434A)
  %53 = fmul <8 x float> %44, %52
  %54 = fadd <8 x float> %53, splat (float f0x3A270DED)
  %55 = fmul <8 x float> %44, %54
  %56 = fadd <8 x float> %55, splat (float f0x3BA059DC)
  %57 = fmul <8 x float> %43, %56
  %58 = fmul <8 x float> %44, splat (float f0x35A0D3D8)
  %59 = fadd <8 x float> %58, splat (float f0x38F895D6)
  %60 = fmul <8 x float> %44, %59
  %61 = fadd <8 x float> %60, splat (float f0x3B14AA05)
  %62 = fmul <8 x float> %44, %61
  %63 = fadd <8 x float> %62, splat (float f0x3BA059DD)
  %64 = fdiv <8 x float> %57, %63
  %65 = select <8 x i1> %41, <8 x float> %.sroa.4.0.copyload, <8 x float> %64
  %66 = fcmp oge <8 x float> %40, splat (float 2.000000e+01)
  %67 = call <8 x float> @llvm.copysign.v8f32(<8 x float> splat (float 1.000000e+00), <8 x float> %.sroa.4.0.copyload)
  %68 = select <8 x i1> %66, <8 x float> %67, <8 x float> %65
  %69 = getelementptr inbounds nuw i8, ptr %10, i64 32
  store <8 x float> %68, ptr %69, align 32
  call void @llvm.memcpy.p0.p0.i64(ptr noundef nonnull align 1 dereferenceable(64) %8, ptr noundef nonnull align 64 dereferenceable(64) %10, i64 64, i1 false)
  call void @llvm.stackrestore.p0(ptr %savedstack)
  %savedstack.1 = tail call ptr @llvm.stacksave.p0()
  %70 = getelementptr i8, ptr %9, i64 64
  %.sroa.0.0.copyload.1 = load <8 x float>, ptr %70, align 1
  %.sroa.4.0..sroa_idx.1 = getelementptr i8, ptr %9, i64 96
  %.sroa.4.0.copyload.1 = load <8 x float>, ptr %.sroa.4.0..sroa_idx.1, align 1
  %71 = alloca [16 x float], align 64
  %72 = call <8 x float> @llvm.fabs.v8f32(<8 x float> %.sroa.0.0.copyload.1)
  %73 = fcmp olt <8 x float> %72, splat (float 4.000000e-04)
  %.inv10 = fcmp olt <8 x float> %.sroa.0.0.copyload.1, splat (float f0xC0FFF644)
  %74 = select <8 x i1> %.inv10, <8 x float> splat (float f0xC0FFF644), <8 x float> %.sroa.0.0.copyload.1
  %.inv11 = fcmp ogt <8 x float> %74, splat (float f0x40FFF644)
  %75 = select <8 x i1> %.inv11, <8 x float> splat (float f0x40FFF644), <8 x float> %74
  %76 = fmul <8 x float> %75, %75
  %77 = fmul <8 x float> %76, splat (float f0xA59F25C0)
  %78 = fadd <8 x float> %77, splat (float f0x2A61337E)
  %79 = fmul <8 x float> %76, %78
  %80 = fadd <8 x float> %79, splat (float f0xAEBD37FF)
  %81 = fmul <8 x float> %76, %80
  %82 = fadd <8 x float> %81, splat (float f0x335C0041)
  %83 = fmul <8 x float> %76, %82
  %84 = fadd <8 x float> %83, splat (float f0x3779434A)
  %85 = fmul <8 x float> %76, %84
  %86 = fadd <8 x float> %85, splat (float f0x3A270DED)
  %87 = fmul <8 x float> %76, %86
  %88 = fadd <8 x float> %87, splat (float f0x3BA059DC)
  %89 = fmul <8 x float> %75, %88
  %90 = fmul <8 x float> %76, splat (float f0x35A0D3D8)
  %91 = fadd <8 x float> %90, splat (float f0x38F895D6)
  %92 = fmul <8 x float> %76, %91
  %93 = fadd <8 x float> %92, splat (float f0x3B14AA05)
  %94 = fmul <8 x float> %76, %93
  %95 = fadd <8 x float> %94, splat (float f0x3BA059DD)
  %96 = fdiv <8 x float> %89, %95
  %97 = select <8 x i1> %73, <8 x float> %.sroa.0.0.copyload.1, <8 x float> %96
  %98 = fcmp oge <8 x float> %72, splat (float 2.000000e+01)
  %99 = call <8 x float> @llvm.copysign.v8f32(<8 x float> splat (float 1.000000e+00), <8 x float> %.sroa.0.0.copyload.1)
  %100 = select <8 x i1> %98, <8 x float> %99, <8 x float> %97
  store <8 x float> %100, ptr %71, align 64
  %101 = call <8 x float> @llvm.fabs.v8f32(<8 x float> %.sroa.4.0.copyload.1)
  %102 = fcmp olt <8 x float> %101, splat (float 4.000000e-04)
  %.inv12 = fcmp olt <8 x float> %.sroa.4.0.copyload.1, splat (float f0xC0FFF644)
  %103 = select <8 x i1> %.inv12, <8 x float> splat (float f0xC0FFF644), <8 x float> %.sroa.4.0.copyload.1
  %.inv13 = fcmp ogt <8 x float> %103, splat (float f0x40FFF644)
  %104 = select <8 x i1> %.inv13, <8 x float> splat (float f0x40FFF644), <8 x float> %103
  %105 = fmul <8 x float> %104, %104
  %106 = fmul <8 x float> %105, splat (float f0xA59F25C0)
  %107 = fadd <8 x float> %106, splat (float f0x2A61337E)
  %108 = fmul <8 x float> %105, %107
  %109 = fadd <8 x float> %108, splat (float f0xAEBD37FF)
  %110 = fmul <8 x float> %105, %109
  %111 = fadd <8 x float> %110, splat (float f0x335C0041)
  %112 = fmul <8 x float> %105, %111
  %113 = fadd <8 x float> %112, splat (float f0x3779434A)
  %114 = fmul <8 x float> %105, %113
  %115 = fadd <8 x float> %114, splat (float f0x3A270DED)
  %116 = fmul <8 x float> %105, %115
  %117 = fadd <8 x float> %116, splat (float f0x3BA059DC)
  %118 = fmul <8 x float> %104, %117
  %119 = fmul <8 x float> %105, splat (float f0x35A0D3D8)
  %120 = fadd <8 x float> %119, splat (float f0x38F895D6)
  %121 = fmul <8 x float> %105, %120
  %122 = fadd <8 x float> %121, splat (float f0x3B14AA05)
  %123 = fmul <8 x float> %105, %122
  %124 = fadd <8 x float> %123, splat (float f0x3BA059DD)
  %125 = fdiv <8 x float> %118, %124
  %126 = select <8 x i1> %102, <8 x float> %.sroa.4.0.copyload.1, <8 x float> %125
  %127 = fcmp oge <8 x float> %101, splat (float 2.000000e+01)
  %128 = call <8 x float> @llvm.copysign.v8f32(<8 x float> splat (float 1.000000e+00), <8 x float> %.sroa.4.0.copyload.1)
  %129 = select <8 x i1> %127, <8 x float> %128, <8 x float> %126
  %130 = getelementptr inbounds nuw i8, ptr %71, i64 32
  store <8 x float> %129, ptr %130, align 32
  %131 = getelementptr i8, ptr %8, i64 64
  call void @llvm.memcpy.p0.p0.i64(ptr noundef nonnull align 1 dereferenceable(64) %131, ptr noundef nonnull align 64 dereferenceable(64) %71, i64 64, i1 false)
  call void @llvm.stackrestore.p0(ptr %savedstack.1)
  %savedstack.2 = tail call ptr @llvm.stacksave.p0()
  %132 = getelementptr i8, ptr %9, i64 128
  %.sroa.0.0.copyload.2 = load <8 x float>, ptr %132, align 1
  %.sroa.4.0..sroa_idx.2 = getelementptr i8, ptr %9, i64 160
  %.sroa.4.0.copyload.2 = load <8 x float>, ptr %.sroa.4.0..sroa_idx.2, align 1
  %133 = alloca [16 x float], align 64
  %134 = call <8 x float> @llvm.fabs.v8f32(<8 x float> %.sroa.0.0.copyload.2)
  %135 = fcmp olt <8 x float> %134, splat (float 4.000000e-04)
  %.inv14 = fcmp olt <8 x float> %.sroa.0.0.copyload.2, splat (float f0xC0FFF644)
  %136 = select <8 x i1> %.inv14, <8 x float> splat (float f0xC0FFF644), <8 x float> %.sroa.0.0.copyload.2
  %.inv15 = fcmp ogt <8 x float> %136, splat (float f0x40FFF644)
  %137 = select <8 x i1> %.inv15, <8 x float> splat (float f0x40FFF644), <8 x float> %136
  %138 = fmul <8 x float> %137, %137
  %139 = fmul <8 x float> %138, splat (float f0xA59F25C0)
  %140 = fadd <8 x float> %139, splat (float f0x2A61337E)
  %141 = fmul <8 x float> %138, %140
  %142 = fadd <8 x float> %141, splat (float f0xAEBD37FF)
  %143 = fmul <8 x float> %138, %142
  %144 = fadd <8 x float> %143, splat (float f0x335C0041)
  %145 = fmul <8 x float> %138, %144
  %146 = fadd <8 x float> %145, splat (float f0x3779434A)
  %147 = fmul <8 x float> %138, %146
  %148 = fadd <8 x float> %147, splat (float f0x3A270DED)
  %149 = fmul <8 x float> %138, %148
  %150 = fadd <8 x float> %149, splat (float f0x3BA059DC)
  %151 = fmul <8 x float> %137, %150
  %152 = fmul <8 x float> %138, splat (float f0x35A0D3D8)
  %153 = fadd <8 x float> %152, splat (float f0x38F895D6)
  %154 = fmul <8 x float> %138, %153
  %155 = fadd <8 x float> %154, splat (float f0x3B14AA05)
  %156 = fmul <8 x float> %138, %155
  %157 = fadd <8 x float> %156, splat (float f0x3BA059DD)
  %158 = fdiv <8 x float> %151, %157
  %159 = select <8 x i1> %135, <8 x float> %.sroa.0.0.copyload.2, <8 x float> %158
  %160 = fcmp oge <8 x float> %134, splat (float 2.000000e+01)
  %161 = call <8 x float> @llvm.copysign.v8f32(<8 x float> splat (float 1.000000e+00), <8 x float> %.sroa.0.0.copyload.2)
  %162 = select <8 x i1> %160, <8 x float> %161, <8 x float> %159
  store <8 x float> %162, ptr %133, align 64
  %163 = call <8 x float> @llvm.fabs.v8f32(<8 x float> %.sroa.4.0.copyload.2)
  %164 = fcmp olt <8 x float> %163, splat (float 4.000000e-04)
  %.inv16 = fcmp olt <8 x float> %.sroa.4.0.copyload.2, splat (float f0xC0FFF644)
  %165 = select <8 x i1> %.inv16, <8 x float> splat (float f0xC0FFF644), <8 x float> %.sroa.4.0.copyload.2
  %.inv17 = fcmp ogt <8 x float> %165, splat (float f0x40FFF644)
  %166 = select <8 x i1> %.inv17, <8 x float> splat (float f0x40FFF644), <8 x float> %165
  %167 = fmul <8 x float> %166, %166
  %168 = fmul <8 x float> %167, splat (float f0xA59F25C0)
  %169 = fadd <8 x float> %168, splat (float f0x2A61337E)
  %170 = fmul <8 x float> %167, %169
  %171 = fadd <8 x float> %170, splat (float f0xAEBD37FF)
  %172 = fmul <8 x float> %167, %171
  %173 = fadd <8 x float> %172, splat (float f0x335C0041)
  %174 = fmul <8 x float> %167, %173
  %175 = fadd <8 x float> %174, splat (float f0x3779434A)
  %176 = fmul <8 x float> %167, %175
  %177 = fadd <8 x float> %176, splat (float f0x3A270DED)
  %178 = fmul <8 x float> %167, %177
  %179 = fadd <8 x float> %178, splat (float f0x3BA059DC)
  %180 = fmul <8 x float> %166, %179
  %181 = fmul <8 x float> %167, splat (float f0x35A0D3D8)
  %182 = fadd <8 x float> %181, splat (float f0x38F895D6)
  %183 = fmul <8 x float> %167, %182
  %184 = fadd <8 x float> %183, splat (float f0x3B14AA05)
  %185 = fmul <8 x float> %167, %184
  %186 = fadd <8 x float> %185, splat (float f0x3BA059DD)
  %187 = fdiv <8 x float> %180, %186
  %188 = select <8 x i1> %164, <8 x float> %.sroa.4.0.copyload.2, <8 x float> %187
  %189 = fcmp oge <8 x float> %163, splat (float 2.000000e+01)
  %190 = call <8 x float> @llvm.copysign.v8f32(<8 x float> splat (float 1.000000e+00), <8 x float> %.sroa.4.0.copyload.2)
  %191 = select <8 x i1> %189, <8 x float> %190, <8 x float> %188
  %192 = getelementptr inbounds nuw i8, ptr %133, i64 32
  store <8 x float> %191, ptr %192, align 32
  %193 = getelementptr i8, ptr %8, i64 128
  call void @llvm.memcpy.p0.p0.i64(ptr noundef nonnull align 1 dereferenceable(64) %193, ptr noundef nonnull align 64 dereferenceable(64) %133, i64 64, i1 false)
  call void @llvm.stackrestore.p0(ptr %savedstack.2)
  %savedstack.3 = tail call ptr @llvm.stacksave.p0()
  %194 = getelementptr i8, ptr %9, i64 192
  %.sroa.0.0.copyload.3 = load <8 x float>, ptr %194, align 1
  %.sroa.4.0..sroa_idx.3 = getelementptr i8, ptr %9, i64 224
  %.sroa.4.0.copyload.3 = load <8 x float>, ptr %.sroa.4.0..sroa_idx.3, align 1
  %195 = alloca [16 x float], align 64
  %196 = call <8 x float> @llvm.fabs.v8f32(<8 x float> %.sroa.0.0.copyload.3)
  %197 = fcmp olt <8 x float> %196, splat (float 4.000000e-04)
  %.inv18 = fcmp olt <8 x float> %.sroa.0.0.copyload.3, splat (float f0xC0FFF644)
  %198 = select <8 x i1> %.inv18, <8 x float> splat (float f0xC0FFF644), <8 x float> %.sroa.0.0.copyload.3
  %.inv19 = fcmp ogt <8 x float> %198, splat (float f0x40FFF644)
  %199 = select <8 x i1> %.inv19, <8 x float> splat (float f0x40FFF644), <8 x float> %198
  %200 = fmul <8 x float> %199, %199
  %201 = fmul <8 x float> %200, splat (float f0xA59F25C0)
  %202 = fadd <8 x float> %201, splat (float f0x2A61337E)
  %203 = fmul <8 x float> %200, %202
  %204 = fadd <8 x float> %203, splat (float f0xAEBD37FF)
  %205 = fmul <8 x float> %200, %204
  %206 = fadd <8 x float> %205, splat (float f0x335C0041)
  %207 = fmul <8 x float> %200, %206
  %208 = fadd <8 x float> %207, splat (float f0x3779434A)
  %209 = fmul <8 x float> %200, %208
  %210 = fadd <8 x float> %209, splat (float f0x3A270DED)
  %211 = fmul <8 x float> %200, %210
  %212 = fadd <8 x float> %211, splat (float f0x3BA059DC)
  %213 = fmul <8 x float> %199, %212
  %214 = fmul <8 x float> %200, splat (float f0x35A0D3D8)
  %215 = fadd <8 x float> %214, splat (float f0x38F895D6)
  %216 = fmul <8 x float> %200, %215
  %217 = fadd <8 x float> %216, splat (float f0x3B14AA05)
  %218 = fmul <8 x float> %200, %217
  %219 = fadd <8 x float> %218, splat (float f0x3BA059DD)
  %220 = fdiv <8 x float> %213, %219
  %221 = select <8 x i1> %197, <8 x float> %.sroa.0.0.copyload.3, <8 x float> %220
  %222 = fcmp oge <8 x float> %196, splat (float 2.000000e+01)
  %223 = call <8 x float> @llvm.copysign.v8f32(<8 x float> splat (float 1.000000e+00), <8 x float> %.sroa.0.0.copyload.3)
  %224 = select <8 x i1> %222, <8 x float> %223, <8 x float> %221
  store <8 x float> %224, ptr %195, align 64
  %225 = call <8 x float> @llvm.fabs.v8f32(<8 x float> %.sroa.4.0.copyload.3)
  %226 = fcmp olt <8 x float> %225, splat (float 4.000000e-04)
  %.inv20 = fcmp olt <8 x float> %.sroa.4.0.copyload.3, splat (float f0xC0FFF644)
  %227 = select <8 x i1> %.inv20, <8 x float> splat (float f0xC0FFF644), <8 x float> %.sroa.4.0.copyload.3
  %.inv21 = fcmp ogt <8 x float> %227, splat (float f0x40FFF644)
  %228 = select <8 x i1> %.inv21, <8 x float> splat (float f0x40FFF644), <8 x float> %227
  %229 = fmul <8 x float> %228, %228
  %230 = fmul <8 x float> %229, splat (float f0xA59F25C0)
  %231 = fadd <8 x float> %230, splat (float f0x2A61337E)
  %232 = fmul <8 x float> %229, %231
  %233 = fadd <8 x float> %232, splat (float f0xAEBD37FF)
  %234 = fmul <8 x float> %229, %233
  %235 = fadd <8 x float> %234, splat (float f0x335C0041)
  %236 = fmul <8 x float> %229, %235
  %237 = fadd <8 x float> %236, splat (float f0x3779434A)
  %238 = fmul <8 x float> %229, %237
  %239 = fadd <8 x float> %238, splat (float f0x3A270DED)
  %240 = fmul <8 x float> %229, %239
  %241 = fadd <8 x float> %240, splat (float f0x3BA059DC)
  %242 = fmul <8 x float> %228, %241
  %243 = fmul <8 x float> %229, splat (float f0x35A0D3D8)
  %244 = fadd <8 x float> %243, splat (float f0x38F895D6)
  %245 = fmul <8 x float> %229, %244
  %246 = fadd <8 x float> %245, splat (float f0x3B14AA05)
  %247 = fmul <8 x float> %229, %246
  %248 = fadd <8 x float> %247, splat (float f0x3BA059DD)
  %249 = fdiv <8 x float> %242, %248
  %250 = select <8 x i1> %226, <8 x float> %.sroa.4.0.copyload.3, <8 x float> %249
  %251 = fcmp oge <8 x float> %225, splat (float 2.000000e+01)
  %252 = call <8 x float> @llvm.copysign.v8f32(<8 x float> splat (float 1.000000e+00), <8 x float> %.sroa.4.0.copyload.3)
  %253 = select <8 x i1> %251, <8 x float> %252, <8 x float> %250
  %254 = getelementptr inbounds nuw i8, ptr %195, i64 32
  store <8 x float> %253, ptr %254, align 32
  %255 = getelementptr i8, ptr %8, i64 192
  call void @llvm.memcpy.p0.p0.i64(ptr noundef nonnull align 1 dereferenceable(64) %255, ptr noundef nonnull align 64 dereferenceable(64) %195, i64 64, i1 false)
  call void @llvm.stackrestore.p0(ptr %savedstack.3)
  br label %._crit_edge

._crit_edge:                                      ; preds = %.lr.ph, %1
  ret ptr null
}

; Function Attrs: mustprogress nocallback nofree nosync nounwind willreturn memory(argmem: readwrite)
declare void @llvm.memcpy.p0.p0.i64(ptr noalias writeonly captures(none), ptr noalias readonly captures(none), i64, i1 immarg) #0

; Function Attrs: mustprogress nocallback nofree nosync nounwind willreturn
declare ptr @llvm.stacksave.p0() #1

; Function Attrs: mustprogress nocallback nofree nosync nounwind willreturn
declare void @llvm.stackrestore.p0(ptr) #1

; Function Attrs: nocallback nocreateundeforpoison nofree nosync nounwind speculatable willreturn memory(none)
declare <8 x float> @llvm.fabs.v8f32(<8 x float>) #2

; Function Attrs: nocallback nocreateundeforpoison nofree nosync nounwind speculatable willreturn memory(none)
declare <8 x float> @llvm.copysign.v8f32(<8 x float>, <8 x float>) #2

attributes #0 = { mustprogress nocallback nofree nosync nounwind willreturn memory(argmem: readwrite) }
attributes #1 = { mustprogress nocallback nofree nosync nounwind willreturn }
attributes #2 = { nocallback nocreateundeforpoison nofree nosync nounwind speculatable willreturn memory(none) }

!llvm.module.flags = !{!0, !1, !2, !3, !4, !5}
!xla_cpu_memory_region_name = !{!6}
!llvm.ident = !{!7}

!0 = !{i32 2, !"Debug Info Version", i32 3}
!1 = !{i32 1, !"xla_dylib_index", i64 4}
!2 = !{i32 1, !"wchar_size", i32 4}
!3 = !{i32 8, !"PIC Level", i32 0}
!4 = !{i32 7, !"uwtable", i32 2}
!5 = !{i32 7, !"frame-pointer", i32 2}
!6 = !{!"xla_cpu_emitter__tiled_emitter__hlo_opcode__fusion"}
!7 = !{!"clang version 18.1.8"}
!8 = !{}
