"""The profile's kernel classes, checked on names taken from real profiles of the patching sweep:
every aten operator of a CPU profile (torch 2.13, organism, float32) and every CUDA kernel of a GPU
profile (H200, torch 2.11, bf16 and float32; written by ``experiments/profile_patching.py`` into
``experiments/results/profile_patching/``). The expected class is written by hand per name."""

from __future__ import annotations

import importlib
import json
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
EXPERIMENTS = ROOT / "experiments"

# aten operators of `profile_patching.py --device cpu --dtype float32 --pairs 2 --steps 1 --read-at patched`
CPU_OPERATORS = {
    "matmul": ["aten::addmm", "aten::mm", "aten::matmul"],
    "attention": ["aten::_scaled_dot_product_flash_attention_for_cpu", "aten::scaled_dot_product_attention"],
    "element-wise": ["aten::gelu", "aten::mul", "aten::add", "aten::pow", "aten::sub", "aten::div_", "aten::add_",
                     "aten::rsqrt", "aten::where", "aten::fill_", "aten::arange", "aten::exp", "aten::silu",
                     "aten::sin", "aten::div", "aten::cos", "aten::clamp", "aten::round", "aten::abs", "aten::ones",
                     "aten::zeros", "aten::zero_"],
    "copy, cast": ["aten::copy_", "aten::_to_copy", "aten::to", "aten::type_as", "aten::clone"],
    "norm": ["aten::native_layer_norm", "aten::rms_norm", "aten::_fused_rms_norm", "aten::layer_norm"],
    "convolution": ["aten::mkldnn_convolution", "aten::_convolution", "aten::convolution", "aten::conv3d"],
    "reduction": ["aten::sum", "aten::mean", "aten::all"],
    "index, cat": ["aten::cat", "aten::index_select", "aten::_index_put_impl_", "aten::index_put_"],
    "random numbers": ["aten::normal_", "aten::randn"],
    "views, allocation (host)": [
        "aten::linear", "aten::view", "aten::as_strided", "aten::empty", "aten::slice", "aten::permute", "aten::t",
        "aten::transpose", "aten::empty_strided", "aten::split", "aten::unflatten", "aten::expand",
        "aten::resolve_conj", "aten::unbind", "aten::empty_like", "aten::narrow", "aten::reshape", "aten::select",
        "aten::flatten", "aten::chunk", "aten::dropout", "aten::result_type", "aten::unsqueeze",
        "aten::split_with_sizes", "aten::_unsafe_view", "aten::as_strided_", "aten::resize_", "aten::contiguous",
        "aten::set_", "aten::item", "aten::detach", "aten::is_nonzero", "aten::_reshape_alias",
        "aten::_local_scalar_dense", "aten::lift_fresh", "aten::new_empty", "aten::movedim", "aten::detach_",
        "aten::resolve_neg"],
}


@pytest.fixture(scope="module")
def profile():
    import sys

    sys.path.insert(0, str(EXPERIMENTS))
    try:
        yield importlib.import_module("profile_patching")
    finally:
        sys.path.remove(str(EXPERIMENTS))


@pytest.mark.parametrize("label", sorted(CPU_OPERATORS))
def test_cpu_operators_land_in_their_class(profile, label):
    assert {name: profile.kernel_class(name) for name in CPU_OPERATORS[label]} == \
        {name: label for name in CPU_OPERATORS[label]}


def test_look_alike_names_are_told_apart(profile):
    # conv vs convert, norm vs normal, cat vs CatArrayBatchedCopy vs copy, attention's cutlass vs a GEMM's
    assert profile.kernel_class("triton_poi_fused_convert_element_type_0") == "compiled fused (triton)"
    assert profile.kernel_class("aten::normal_") == "random numbers"
    assert profile.kernel_class("aten::native_layer_norm") == "norm"
    assert profile.kernel_class("void at::native::(anonymous namespace)::CatArrayBatchedCopy_aligned16_contig"
                                "<c10::BFloat16, unsigned int, 4, 64, 64>") == "index, cat"
    assert profile.kernel_class("fmha_cutlassF_bf16_aligned_64x64_rf_sm80") == "attention"
    assert profile.kernel_class("void cutlass::Kernel2<cutlass_80_tensorop_bf16_s16816gemm_relu_bf16_64x64_64x4"
                                "_tn_align8>") == "matmul"
    assert profile.kernel_class("something_never_seen") == "other"


# CUDA kernels of the published H200 profile (experiments/results/profile_patching/cuda_bfloat16_2026-12-05.json),
# the class of each written by hand from what the kernel does
GPU_KERNELS = {
    "triton_per_fused__fused_rms_norm_add_copy_mul_slice_sub_unbind_view_1": "compiled fused (triton)",
    "triton_poi_fused_gelu_view_6": "compiled fused (triton)",
    "nvjet_sm90_tst_128x160_64x5_2x1_v_bz_coopA_bias_TNT": "matmul",
    "cudnn_generated_fort_native_sdpa_sm90_flash_fprop_wgmma_f16_knob_7_64x128x64_4x1x1_cga1x1x1_kernel0_0": "attention",
    "sm90_xmma_fprop_implicit_gemm_bf16bf16_bf16f32_f32_nhwckrsc_nhwc_tilesize128x256x64_warpgroupsize2x1x1_g1_execute"
    "_segment_k_off_kernel__5x_cudnn": "convolution",
    "void at::native::(anonymous namespace)::vectorized_layer_norm_kernel<c10::BFloat16, float, true>(int, float, "
    "c10::BFloat16 const*, c10::BFloat16 const*, c10::BFloat16 const*, float*, float*, c10::BFloat16*)": "norm",
    "void at::native::vectorized_elementwise_kernel<4, at::native::CUDAFunctor_add<float>, std::array<char*, 3ul> >"
    "(int, at::native::CUDAFunctor_add<float>, std::array<char*, 3ul>)": "element-wise",
    "void at::native::vectorized_elementwise_kernel<8, at::native::bfloat16_copy_kernel_cuda(at::TensorIteratorBase&)"
    "::{lambda(float)#1}, std::array<char*, 2ul> >(int, at::native::bfloat16_copy_kernel_cuda(at::TensorIteratorBase&)"
    "::{lambda(float)#1}, std::array<char*, 2ul>)": "copy, cast",
}


@pytest.mark.parametrize("name", sorted(GPU_KERNELS))
def test_gpu_kernels_land_in_their_class(profile, name):
    assert profile.kernel_class(name) == GPU_KERNELS[name]


def test_the_published_gpu_profile_leaves_no_time_unclassed(profile):
    """Every kernel of the published profile has a class other than ``other``, the one its name gives today."""
    for path in sorted((ROOT / "experiments" / "results" / "profile_patching").glob("cuda_*.json")):
        record = json.loads(path.read_text())
        for arm in record["arms"]:
            for kernel in record[arm]["kernels"]:
                assert kernel["class"] != "other", kernel["name"]
                if len(kernel["name"]) < 400:          # longer names are cut in the record
                    assert profile.kernel_class(kernel["name"]) == kernel["class"], kernel["name"]
