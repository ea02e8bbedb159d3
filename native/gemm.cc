// A small single-threaded SGEMM for the WASM backend's matmuls, run on the WASM heap in place (the
// typed arrays passed in are views of it): C[b] = act(op(A[b]) op(B[b]) + bias), op = optional
// transpose, act in {linear, relu, elu}. Register-blocked: a tile of 6 rows x 2 (AVX2, NEON) or 4
// (AVX-512) vectors of C held in registers per pass over K (GCC/Clang vector extensions, whatever
// -march=native gives), B packed row-major once per call when it is transposed or its width is not
// a multiple of the vector width. Loop order is fixed, so results are
// deterministic on a machine. Built at `npm ci` when a C++ compiler is present (native/build.mjs).
#include <node_api.h>
#include <cstdint>
#include <cstring>
#include <vector>

#if defined(__AVX512F__)
constexpr int kWidth = 16;  // floats per vector register
constexpr int kVectors = 4;  // vectors per row of a tile
constexpr int kRows = 6;     // 6 x 4 accumulators of 32 registers
#else
constexpr int kWidth = 8;
constexpr int kVectors = 2;
constexpr int kRows = 6;  // 6 x 2 accumulators of 16 registers (AVX2)
#endif
typedef float vec __attribute__((vector_size(kWidth * sizeof(float)), aligned(4)));
constexpr int kTile = kWidth * kVectors;

namespace {

enum Activation { kLinear = 0, kRelu = 1, kElu = 2 };

typedef int32_t ivec __attribute__((vector_size(kWidth * sizeof(int32_t)), aligned(4)));

// elu(x) = x for x > 0, exp(x) - 1 otherwise, on a vector. exp on [-87, 0] as 2^n p(r), x = n ln2 + r,
// |r| <= ln2 / 2 (relative error ~2e-7); a cubic for x in (-0.01, 0], where exp(x) - 1 would lose
// relative accuracy. Vector types throughout, since GCC does not vectorise the scalar form's selects.
inline vec elu(vec x) {
  const vec zero = {};
  const vec neg = x < zero ? x : zero;
  const vec xc = neg > -87.0f ? neg : zero - 87.0f;
  const ivec n = __builtin_convertvector(xc * 1.44269504088896341f - 0.5f, ivec);  // nearest, as xc <= 0
  const vec nf = __builtin_convertvector(n, vec);
  const vec r = xc - nf * 0.693145751953125f - nf * 1.428606765330187045e-06f;
  vec p = zero + 1.9875691500e-4f;
  p = p * r + 1.3981999507e-3f;
  p = p * r + 8.3334519073e-3f;
  p = p * r + 4.1665795894e-2f;
  p = p * r + 1.6666665459e-1f;
  p = p * r + 5.0000001201e-1f;
  p = p * r * r + r + 1.0f;
  const vec e = p * reinterpret_cast<vec>((n + 127) << 23) - 1.0f;
  const vec small = neg + 0.5f * neg * neg + neg * neg * neg * (1.0f / 6.0f);
  return x > zero ? x : (neg > -0.01f ? small : e);
}

void epilogue(float* c, int64_t rows, int64_t n, const float* bias, int activation) {
  for (int64_t i = 0; i < rows; i++) {
    float* row = c + i * n;
    if (bias) for (int64_t j = 0; j < n; j++) row[j] += bias[j];
    if (activation == kRelu) {
      for (int64_t j = 0; j < n; j++) row[j] = row[j] > 0.0f ? row[j] : 0.0f;
    } else if (activation == kElu) {
      int64_t j = 0;
      for (; j + kWidth <= n; j += kWidth) {
        vec* v = reinterpret_cast<vec*>(row + j);
        *v = elu(*v);
      }
      if (j < n) {  // the tail through a padded vector
        vec tail = {};
        for (int64_t q = j; q < n; q++) tail[q - j] = row[q];
        tail = elu(tail);
        for (int64_t q = j; q < n; q++) row[q] = tail[q - j];
      }
    }
  }
}

// C [m, n] = A B with A(i, k) = a[i * sa_i + k * sa_k] and B packed row-major [k, n], n a multiple of kWidth.
template <int R>
void block_rows(const float* a, int64_t sa_i, int64_t sa_k, const float* b, float* c, int64_t k, int64_t n) {
  int64_t j = 0;
  for (; j + kTile <= n; j += kTile) {
    vec acc[R][kVectors] = {};
    for (int64_t p = 0; p < k; p++) {
      const vec* brow = reinterpret_cast<const vec*>(b + p * n + j);
      vec bv[kVectors];
      for (int v = 0; v < kVectors; v++) bv[v] = brow[v];
      for (int r = 0; r < R; r++) {
        const float s = a[r * sa_i + p * sa_k];
        for (int v = 0; v < kVectors; v++) acc[r][v] += s * bv[v];
      }
    }
    for (int r = 0; r < R; r++)
      for (int v = 0; v < kVectors; v++) reinterpret_cast<vec*>(c + r * n + j)[v] = acc[r][v];
  }
  for (; j + kWidth <= n; j += kWidth) {
    vec acc[R] = {};
    for (int64_t p = 0; p < k; p++) {
      const vec bv = *reinterpret_cast<const vec*>(b + p * n + j);
      for (int r = 0; r < R; r++) acc[r] += a[r * sa_i + p * sa_k] * bv;
    }
    for (int r = 0; r < R; r++) *reinterpret_cast<vec*>(c + r * n + j) = acc[r];
  }
}

// B is packed (row-major [k, n'], zero-padded to n' a multiple of the vector width) when it is
// transposed or n is not a multiple; C then goes through a padded buffer.
void gemm(const float* a, bool trans_a, const float* b, bool trans_b, float* c, int64_t m, int64_t k, int64_t n, std::vector<float>& packed, std::vector<float>& padded) {
  const int64_t np = (n + kWidth - 1) / kWidth * kWidth;
  const float* bp = b;
  if (trans_b || np != n) {
    packed.assign(static_cast<size_t>(k * np), 0.0f);
    if (!trans_b) {
      for (int64_t p = 0; p < k; p++) std::memcpy(&packed[p * np], b + p * n, n * sizeof(float));
    } else {  // b is [n, k]
      constexpr int64_t kBlock = 16;  // cache-sized blocks of the transpose
      for (int64_t q0 = 0; q0 < n; q0 += kBlock)
        for (int64_t p0 = 0; p0 < k; p0 += kBlock)
          for (int64_t q = q0; q < q0 + kBlock && q < n; q++)
            for (int64_t p = p0; p < p0 + kBlock && p < k; p++) packed[p * np + q] = b[q * k + p];
    }
    bp = packed.data();
  }
  float* cp = c;
  if (np != n) {
    padded.resize(static_cast<size_t>(m * np));
    cp = padded.data();
  }
  const int64_t sa_i = trans_a ? 1 : k;  // a is [m, k], or [k, m] when transposed
  const int64_t sa_k = trans_a ? m : 1;
  int64_t i = 0;
  for (; i + kRows <= m; i += kRows) block_rows<kRows>(a + i * sa_i, sa_i, sa_k, bp, cp + i * np, k, np);
  // The last rows in tiles of 4, 2, 1 (a tile of one row reuses each loaded B vector once only).
  for (; i + 4 <= m; i += 4) block_rows<4>(a + i * sa_i, sa_i, sa_k, bp, cp + i * np, k, np);
  for (; i + 2 <= m; i += 2) block_rows<2>(a + i * sa_i, sa_i, sa_k, bp, cp + i * np, k, np);
  for (; i < m; i++) block_rows<1>(a + i * sa_i, sa_i, sa_k, bp, cp + i * np, k, np);
  if (np != n)
    for (int64_t r = 0; r < m; r++) std::memcpy(c + r * n, cp + r * np, n * sizeof(float));
}

float* floats(napi_env env, napi_value v, size_t* length) {
  napi_typedarray_type type;
  void* data = nullptr;
  napi_value buffer;
  size_t offset;
  if (napi_get_typedarray_info(env, v, &type, length, &data, &buffer, &offset) != napi_ok || type != napi_float32_array) return nullptr;
  return static_cast<float*>(data);
}

int64_t integer(napi_env env, napi_value v) {
  int64_t x = 0;
  napi_get_value_int64(env, v, &x);
  return x;
}

// gemm(a, b, out, batchA, batchB, m, k, n, transposeA, transposeB, bias [n] or [batch, n] | null, activation)
napi_value Gemm(napi_env env, napi_callback_info info) {
  size_t argc = 12;
  napi_value args[12];
  napi_get_cb_info(env, info, &argc, args, nullptr, nullptr);
  if (argc != 12) {
    napi_throw_type_error(env, nullptr, "gemm: expected 12 arguments");
    return nullptr;
  }
  size_t la = 0, lb = 0, lc = 0, lbias = 0;
  const float* a = floats(env, args[0], &la);
  const float* b = floats(env, args[1], &lb);
  float* c = floats(env, args[2], &lc);
  const int64_t batch_a = integer(env, args[3]), batch_b = integer(env, args[4]);
  const int64_t m = integer(env, args[5]), k = integer(env, args[6]), n = integer(env, args[7]);
  bool trans_a = false, trans_b = false;
  napi_get_value_bool(env, args[8], &trans_a);
  napi_get_value_bool(env, args[9], &trans_b);
  napi_valuetype bias_type;
  napi_typeof(env, args[10], &bias_type);
  const float* bias = bias_type == napi_null ? nullptr : floats(env, args[10], &lbias);
  const int64_t activation = integer(env, args[11]);
  const int64_t batch = batch_a > batch_b ? batch_a : batch_b;
  const bool shapes_ok = a && b && c && m > 0 && k > 0 && n > 0 && (batch_a == batch || batch_a == 1) && (batch_b == batch || batch_b == 1) &&
                         la == static_cast<size_t>(batch_a * m * k) && lb == static_cast<size_t>(batch_b * k * n) && lc == static_cast<size_t>(batch * m * n) &&
                         (bias_type == napi_null || (bias && (lbias == static_cast<size_t>(n) || lbias == static_cast<size_t>(batch * n)))) &&
                         activation >= kLinear && activation <= kElu;
  if (!shapes_ok) {
    napi_throw_range_error(env, nullptr, "gemm: arrays do not match the given shapes (float32 [batch, m, k] @ [batch, k, n] -> [batch, m, n], bias [n] or [batch, n])");
    return nullptr;
  }
  std::vector<float> packed, padded;
  for (int64_t i = 0; i < batch; i++) {
    float* ci = c + i * m * n;
    gemm(a + (batch_a == 1 ? 0 : i * m * k), trans_a, b + (batch_b == 1 ? 0 : i * k * n), trans_b, ci, m, k, n, packed, padded);
    epilogue(ci, m, n, bias && lbias != static_cast<size_t>(n) ? bias + i * n : bias, static_cast<int>(activation));
  }
  return nullptr;
}

}  // namespace

NAPI_MODULE_INIT() {
  napi_value fn;
  napi_create_function(env, "gemm", NAPI_AUTO_LENGTH, Gemm, nullptr, &fn);
  napi_set_named_property(env, exports, "gemm", fn);
  return exports;
}
