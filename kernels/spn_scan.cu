// Spatial propagation (SPN, three-way connection) along one scan direction.
//
// One thread block owns one (n, c) plane and walks the scan axis step by step;
// its threads cover the perpendicular axis ("lines") and meet at a barrier
// after every step, so a whole direction is a single kernel launch.
//
// Geometry is passed as integers, never baked into the source: inside a plane
// of `plane_size` contiguous elements, the element at (step s, line p) sits at
//     start + s * step_stride + p * line_stride
// which expresses all four directions (left->right, right->left,
// top->bottom, bottom->top) with one kernel.
//
// Memory layout:
//   x, h, grad_x, grad_h, adjoint : (N, C, H, W), contiguous
//   gates, grad_gates             : (N, 3, C, H, W) with (H, W) contiguous and
//                                   strides gate_batch_stride, gate_k_stride,
//                                   gate_channel_stride on N, 3, C (a direction of
//                                   an (N, D, 3, C, H, W) tensor is used in place;
//                                   channel stride 0: one gate set shared by all
//                                   channels); gate k weights the neighbour at
//                                   line offset k - 1. The backward pass needs
//                                   gates and grad_gates with the same strides.
// The backward pass *adds* its dL/dx into grad_x, so the directions of one
// merged propagation accumulate into one buffer.

template <typename T>
__global__ void spn_scan_forward(
    const T* __restrict__ x, const T* __restrict__ gates, T* __restrict__ h,
    long long channels, long long gate_batch_stride, long long gate_k_stride, long long gate_channel_stride,
    long long plane_size, long long lines, long long steps, long long line_stride, long long step_stride,
    long long start) {
  const long long plane = blockIdx.x;
  const long long batch = plane / channels;
  const long long channel = plane - batch * channels;
  const long long gate_stride = gate_k_stride;
  const T* xp = x + plane * plane_size;
  T* hp = h + plane * plane_size;
  const T* g = gates + batch * gate_batch_stride + channel * gate_channel_stride;

  for (long long s = 0; s < steps; ++s) {
    const long long column = start + s * step_stride;
    for (long long p = threadIdx.x; p < lines; p += blockDim.x) {
      const long long pos = column + p * line_stride;
      const T g0 = g[pos];
      const T g1 = g[gate_stride + pos];
      const T g2 = g[2 * gate_stride + pos];
      const T xv = xp[pos];
      T value = xv - (g0 + g1 + g2) * xv;
      if (s > 0) {
        const long long prev = pos - step_stride;
        if (p > 0) value += g0 * hp[prev - line_stride];
        value += g1 * hp[prev];
        if (p + 1 < lines) value += g2 * hp[prev + line_stride];
      }
      hp[pos] = value;
    }
    __syncthreads();
  }
}

// Reverse-mode pass. `adjoint` is scratch of x's shape that holds dL/dh
// including everything propagated back from later steps.
template <typename T>
__global__ void spn_scan_backward(
    const T* __restrict__ x, const T* __restrict__ gates,
    const T* __restrict__ h, const T* __restrict__ grad_h,
    T* __restrict__ adjoint, T* __restrict__ grad_x, T* __restrict__ grad_gates,
    long long channels, long long gate_batch_stride, long long gate_k_stride, long long gate_channel_stride,
    long long plane_size, long long lines, long long steps, long long line_stride, long long step_stride,
    long long start) {
  const long long plane = blockIdx.x;
  const long long batch = plane / channels;
  const long long channel = plane - batch * channels;
  const long long gate_stride = gate_k_stride;
  const long long offset = plane * plane_size;
  const long long gate_offset = batch * gate_batch_stride + channel * gate_channel_stride;
  const T* xp = x + offset;
  const T* hp = h + offset;
  const T* gh = grad_h + offset;
  T* ap = adjoint + offset;
  T* gx = grad_x + offset;
  const T* g = gates + gate_offset;
  T* gg = grad_gates + gate_offset;

  for (long long s = steps - 1; s >= 0; --s) {
    const long long column = start + s * step_stride;
    for (long long p = threadIdx.x; p < lines; p += blockDim.x) {
      const long long pos = column + p * line_stride;
      T a = gh[pos];
      if (s + 1 < steps) {
        // h[s+1][q] reads h[s][q-1] with g0, h[s][q] with g1, h[s][q+1] with g2.
        const long long next = pos + step_stride;
        if (p + 1 < lines) a += g[next + line_stride] * ap[next + line_stride];
        a += g[gate_stride + next] * ap[next];
        if (p > 0) a += g[2 * gate_stride + next - line_stride] * ap[next - line_stride];
      }
      ap[pos] = a;

      const T g0 = g[pos];
      const T g1 = g[gate_stride + pos];
      const T g2 = g[2 * gate_stride + pos];
      const T xv = xp[pos];
      gx[pos] += a - (g0 + g1 + g2) * a;
      T n0 = T(0), n1 = T(0), n2 = T(0);
      if (s > 0) {
        const long long prev = pos - step_stride;
        if (p > 0) n0 = hp[prev - line_stride];
        n1 = hp[prev];
        if (p + 1 < lines) n2 = hp[prev + line_stride];
      }
      gg[pos] = a * (n0 - xv);
      gg[gate_stride + pos] = a * (n1 - xv);
      gg[2 * gate_stride + pos] = a * (n2 - xv);
    }
    __syncthreads();
  }
}
