// C entry points for the kernels of spn_scan.cu, run through shim.h; loaded by ctypes.
#include "shim.h"
#include "spn_scan.cu"

#define LL long long
#define GRID unsigned gx, unsigned gy, unsigned gz, unsigned bx, unsigned by, unsigned bz
#define SCAN_PARAMS LL channels, LL gate_batch_stride, LL gate_k_stride, LL gate_channel_stride, LL plane_size, \
                    LL lines, LL steps, LL line_stride, LL step_stride, LL start
#define SCAN_ARGS channels, gate_batch_stride, gate_k_stride, gate_channel_stride, plane_size, lines, steps, \
                  line_stride, step_stride, start

#define ENTRIES(T)                                                                                      \
  extern "C" void spn_scan_forward_##T(GRID, const T* x, const T* gates, T* h, SCAN_PARAMS) {          \
    host_launch({gx, gy, gz}, {bx, by, bz}, [=] { spn_scan_forward<T>(x, gates, h, SCAN_ARGS); });      \
  }                                                                                                     \
  extern "C" void spn_scan_backward_##T(GRID, const T* x, const T* gates, const T* h, const T* grad_h,  \
                                        T* adjoint, T* grad_x, T* grad_gates, SCAN_PARAMS) {            \
    host_launch({gx, gy, gz}, {bx, by, bz}, [=] {                                                       \
      spn_scan_backward<T>(x, gates, h, grad_h, adjoint, grad_x, grad_gates, SCAN_ARGS);                \
    });                                                                                                 \
  }

ENTRIES(float)
ENTRIES(double)
