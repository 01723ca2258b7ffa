// One error class for everything the library throws, with stable codes mirroring
// csrc/common/error_codes.h (same names, same order; a test compares them with native.errorCodes()).

export const ErrorCodes = {
  InvalidArgument: 'ERR_NSA_TOPK_INVALID_ARGUMENT',
  UnknownBackend: 'ERR_NSA_TOPK_UNKNOWN_BACKEND',
  UnknownOption: 'ERR_NSA_TOPK_UNKNOWN_OPTION',
  CudaUnavailable: 'ERR_NSA_TOPK_CUDA_UNAVAILABLE',
  Cuda: 'ERR_NSA_TOPK_CUDA',
  Disposed: 'ERR_NSA_TOPK_DISPOSED',
  DeviceMismatch: 'ERR_NSA_TOPK_DEVICE_MISMATCH',
  LoadFailed: 'ERR_NSA_TOPK_LOAD_FAILED',
  Capture: 'ERR_NSA_TOPK_CAPTURE',
  NotDeviceMemory: 'ERR_NSA_TOPK_NOT_DEVICE_MEMORY',
} as const;

export type ErrorCode = (typeof ErrorCodes)[keyof typeof ErrorCodes];

export class NsaTopkError extends Error {
  readonly code: ErrorCode;

  // (message, code): the order native code calls it with (native.init hands it this class).
  constructor(message: string, code: ErrorCode) {
    super(message);
    this.name = 'NsaTopkError';
    this.code = code;
  }
}

/** A short, readable rendering of any received value for error messages. */
export function render(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value.length > 60 ? `${value.slice(0, 57)}...` : value);
  if (typeof value === 'bigint') return `${value}n`;
  if (typeof value === 'number' || typeof value === 'boolean' || value == null) return String(value);
  if (typeof value === 'function') return `function ${value.name || '(anonymous)'}`;
  if (ArrayBuffer.isView(value)) {
    const length = 'length' in value ? (value as unknown as { length: number }).length : value.byteLength;
    return `${value.constructor.name}(${length})`;
  }
  if (Array.isArray(value)) return `Array(${value.length})`;
  const name = (value as object).constructor?.name;
  return name && name !== 'Object' ? `an instance of ${name}` : 'an object';
}

/** The one message factory for invalid arguments: "Expected <expected> for <name> but received <value>". */
export function invalidArgument(name: string, expected: string, received: unknown): NsaTopkError {
  return new NsaTopkError(`Expected ${expected} for ${name} but received ${render(received)}`, ErrorCodes.InvalidArgument);
}
