/**
 * The MinHash signature loop (minhash.ts) as a WebAssembly SIMD kernel: four permutations per 128-bit instruction.
 * Pure computation, deterministic; no I/O. Bit-identical to the JS loop (same fmix32 per permutation, unsigned
 * minimum); test/semantic-kernels.test.ts compares the two.
 *
 * Why: the signature (36 permutations x every shingle) was the largest single cost of the semantic-cache pass after
 * the tokeniser: ~4.3 us per prompt of 31 shingles in JS; 0.7 us here, measured on the 87k sampled prompts of the 1M
 * benchmark (docs/BENCHMARKS.md). V8 has no SIMD for JS; Wasm SIMD is in every Node since 16.4.
 *
 * The module is assembled below from its text form (no toolchain needed; 260 bytes):
 *
 *   (func (export "sig") (param $xs i32) (param $n i32) (param $seeds i32) (param $out i32) (param $nv i32)
 *     (local $v i32) (local $j i32) (local $s v128) (local $m v128) (local $h v128)
 *     for $v in [0, $nv):                                   ;; four permutations at a time
 *       $s = v128.load($seeds + 16 * $v)
 *       $m = i32x4(0xffffffff)
 *       for $j in [0, $n):
 *         $h = i32x4.splat(i32.load($xs + 4 * $j)) ^ $s
 *         $h = i32x4.mul($h ^ ($h >>> 16), 0x85ebca6b)     ;; fmix32
 *         $h = i32x4.mul($h ^ ($h >>> 13), 0xc2b2ae35)
 *         $m = i32x4.min_u($m, $h ^ ($h >>> 16))
 *       v128.store($out + 16 * $v, $m))
 *   (memory (export "mem") 1)
 */

/** Unsigned LEB128. */
function uleb(n: number): number[] {
  const out: number[] = [];
  do {
    let b = n & 0x7f;
    n >>>= 7;
    if (n !== 0) b |= 0x80;
    out.push(b);
  } while (n !== 0);
  return out;
}

/** i32.const with a signed LEB128 immediate. */
function i32Const(v: number): number[] {
  const out = [0x41];
  v |= 0;
  for (;;) {
    const b = v & 0x7f;
    v >>= 7;
    if ((v === 0 && (b & 0x40) === 0) || (v === -1 && (b & 0x40) !== 0)) {
      out.push(b);
      return out;
    }
    out.push(b | 0x80);
  }
}

const simd = (op: number): number[] => [0xfd, ...uleb(op)];
function v128Splat4(v: number): number[] {
  const bytes: number[] = [];
  for (let lane = 0; lane < 4; lane++) for (let k = 0; k < 4; k++) bytes.push((v >>> (8 * k)) & 0xff);
  return [...simd(0x0c), ...bytes]; // v128.const
}

function moduleBytes(): Uint8Array<ArrayBuffer> {
  const get = (i: number) => [0x20, i];
  const set = (i: number) => [0x21, i];
  const [XS, N, SEEDS, OUT, NV, V, J, S, M, H] = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9];
  const XOR = simd(0x51);
  const SHR_U = simd(0xad);
  const MUL = simd(0xb5);
  const MIN_U = simd(0xb7);
  const SPLAT = simd(0x11);
  const ADD = 0x6a;
  const SHL = 0x74;
  const GE_U = 0x4f;
  const addr = (base: number, index: number, shift: number) => [...get(base), ...get(index), ...i32Const(shift), SHL, ADD];
  const loopWhile = (i: number, bound: number, body: number[]) => [
    ...[0x02, 0x40, 0x03, 0x40], // block, loop
    ...get(i),
    ...get(bound),
    GE_U,
    ...[0x0d, 1], // br_if out of the block
    ...body,
    ...get(i),
    ...i32Const(1),
    ADD,
    ...set(i),
    ...[0x0c, 0, 0x0b, 0x0b], // br to the loop, end, end
  ];
  /** Pushes h ^ (h >>> shift), lane-wise. */
  const xorShift = (shift: number) => [...get(H), ...get(H), ...i32Const(shift), ...SHR_U, ...XOR];
  const inner = [
    ...addr(XS, J, 2),
    ...[0x28, 2, 0], // i32.load
    ...SPLAT,
    ...get(S),
    ...XOR,
    ...set(H),
    ...xorShift(16),
    ...v128Splat4(0x85ebca6b),
    ...MUL,
    ...set(H),
    ...xorShift(13),
    ...v128Splat4(0xc2b2ae35),
    ...MUL,
    ...set(H),
    ...get(M),
    ...xorShift(16),
    ...MIN_U,
    ...set(M),
  ];
  const outer = [
    ...addr(SEEDS, V, 4),
    ...simd(0x00), // v128.load
    ...[4, 0],
    ...set(S),
    ...v128Splat4(0xffffffff),
    ...set(M),
    ...i32Const(0),
    ...set(J),
    ...loopWhile(J, N, inner),
    ...addr(OUT, V, 4),
    ...get(M),
    ...simd(0x0b), // v128.store
    ...[4, 0],
  ];
  const body = [...[2, 2, 0x7f, 3, 0x7b], ...i32Const(0), ...set(V), ...loopWhile(V, NV, outer), 0x0b];
  const section = (id: number, bytes: number[]) => [id, ...uleb(bytes.length), ...bytes];
  const name = (s: string) => [s.length, ...Array.from(s, (c) => c.charCodeAt(0))];
  return new Uint8Array([
    ...[0x00, 0x61, 0x73, 0x6d, 1, 0, 0, 0],
    ...section(1, [1, 0x60, 5, 0x7f, 0x7f, 0x7f, 0x7f, 0x7f, 0]), // type: (i32 x 5) -> ()
    ...section(3, [1, 0]), // function 0 has type 0
    ...section(5, [1, 0, 1]), // memory: min 1 page
    ...section(7, [2, ...name('mem'), 2, 0, ...name('sig'), 0, 0]), // exports
    ...section(10, [1, ...uleb(body.length), ...body]),
  ]);
}

let compiled: WebAssembly.Module | null | undefined;
function simdModule(): WebAssembly.Module | null {
  if (compiled === undefined) {
    const bytes = moduleBytes();
    compiled = typeof WebAssembly === 'object' && WebAssembly.validate(bytes) ? new WebAssembly.Module(bytes) : null;
  }
  return compiled;
}

export type SignatureKernel = (shingles: ArrayLike<number>, out: Uint32Array) => void;

/**
 * A signature function for these permutation seeds (out.length >= seeds.length), or null when the runtime has no
 * WebAssembly SIMD. Each call copies the shingles into the instance's memory (grown on demand) and the minima back.
 */
export function createSimdSignature(seeds: Uint32Array): SignatureKernel | null {
  const mod = simdModule();
  if (mod === null) return null;
  const instance = new WebAssembly.Instance(mod, {});
  const memory = instance.exports.mem as WebAssembly.Memory;
  const sig = instance.exports.sig as (xs: number, n: number, seeds: number, out: number, nv: number) => void;
  const k = seeds.length;
  const nv = Math.ceil(k / 4); // the last vector's unused lanes have seed 0: computed, never read
  const SEEDS = 0;
  const OUT = nv * 16;
  const XS = 2 * nv * 16;
  let mem = new Uint32Array(memory.buffer);
  mem.set(seeds, SEEDS / 4);
  return (shingles, out) => {
    const n = shingles.length;
    const need = XS + 4 * n;
    if (need > mem.byteLength) {
      memory.grow(Math.ceil((need - mem.byteLength) / 65_536));
      mem = new Uint32Array(memory.buffer); // growing detaches the old buffer
    }
    const x0 = XS / 4;
    for (let j = 0; j < n; j++) mem[x0 + j] = shingles[j]!;
    sig(XS, n, SEEDS, OUT, nv);
    const o0 = OUT / 4;
    for (let i = 0; i < k; i++) out[i] = mem[o0 + i]!;
  };
}
