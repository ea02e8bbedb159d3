{
  "targets": [
    {
      "target_name": "gemm",
      "sources": ["gemm.cc"],
      "cflags_cc": ["-O3", "-std=c++17", "-fno-trapping-math", "-fno-math-errno"],
      "conditions": [
        ["OS=='linux'", { "cflags_cc": ["-march=native"] }],
        ["OS=='mac'", { "xcode_settings": { "OTHER_CPLUSPLUSFLAGS": ["-O3", "-std=c++17"] } }]
      ]
    }
  ]
}
