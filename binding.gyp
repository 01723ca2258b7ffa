# node-gyp has ONE role here: the CPU-only addon, for machines without cmake or the CUDA toolkit.
#   npx node-gyp rebuild   ->   build/Release/nsa_topk.node (cudaStatus().compiled is false)
# The real build, with the CUDA backends, is CMakeLists.txt (cmake-js); scripts/install.js falls
# back to this file only when cmake is missing. The CUDA classes of csrc/binding compile to nothing
# here because NSA_TOPK_WITH_CUDA is not defined.
{
  "targets": [
    {
      "target_name": "nsa_topk",
      "sources": [
        "<!@(node -p \"['binding', 'cpu'].flatMap(d => require('fs').readdirSync('csrc/' + d).filter(f => f.endsWith('.cpp')).map(f => 'csrc/' + d + '/' + f)).join(' ')\")"
      ],
      "include_dirs": ["<!(node -p \"require('node-addon-api').include_dir\")"],
      "defines": [
        "NAPI_VERSION=8",
        "NODE_ADDON_API_DISABLE_DEPRECATED",
        "NAPI_CPP_EXCEPTIONS",
        "NSA_TOPK_BUILD_TYPE=\"Release\""
      ],
      "cflags!": ["-fno-exceptions"],
      "cflags_cc!": ["-fno-exceptions", "-std=gnu++17"],
      "cflags_cc": ["-std=c++17", "-O3", "-fvisibility=hidden"],
      "ldflags": ["-pthread"],
      "xcode_settings": {
        "GCC_ENABLE_CPP_EXCEPTIONS": "YES",
        "CLANG_CXX_LANGUAGE_STANDARD": "c++17",
        "GCC_SYMBOLS_PRIVATE_EXTERN": "YES",
        "MACOSX_DEPLOYMENT_TARGET": "10.15"
      },
      "msvs_settings": {
        "VCCLCompilerTool": { "ExceptionHandling": 1, "AdditionalOptions": ["/std:c++17"] }
      }
    }
  ]
}
