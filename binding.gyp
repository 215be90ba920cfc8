{
  "targets": [
    {
      "target_name": "lethe_native",
      "sources": [
        "native/addon.cpp",
        "native/thread-pool.cpp",
        "native/gemm.cpp",
        "native/gemm-kernels.cpp",
        "native/elementwise.cpp",
        "native/reduce.cpp",
        "native/fused.cpp",
        "native/attention.cpp",
        "native/optim.cpp",
        "native/pool.cpp"
      ],
      "include_dirs": ["<!(node -p \"require('node-addon-api').include_dir\")"],
      "defines": ["NAPI_VERSION=8", "NAPI_DISABLE_CPP_EXCEPTIONS"],
      "cflags_cc": ["-O3", "-fno-math-errno", "-fno-trapping-math", "-pthread"],
      "ldflags": ["-pthread"]
    }
  ]
}
