"use strict";
// gunzip, synchronously: the page must show its first result before the browser's load
// event (so `chromium --dump-dom` and a first paint see it), and the browser's own
// DecompressionStream is asynchronous only. RFC 1951 (DEFLATE) and RFC 1952 (gzip), decoded
// as zlib's puff.c does; the CRC-32 of the output is checked.
function gunzip(data) {
  if (data[0] !== 0x1f || data[1] !== 0x8b || data[2] !== 8) throw new Error("engine: not gzip data");
  const flags = data[3];
  let pos = 10;
  if (flags & 4) pos += 2 + (data[pos] | (data[pos + 1] << 8));
  if (flags & 8) while (data[pos++]);
  if (flags & 16) while (data[pos++]);
  if (flags & 2) pos += 2;
  const n = data.length;
  const u32 = (at) => (data[at] | (data[at + 1] << 8) | (data[at + 2] << 16) | (data[at + 3] << 24)) >>> 0;
  const out = new Uint8Array(u32(n - 4));
  let op = 0, buf = 0, cnt = 0;
  const bits = (k) => {
    while (cnt < k) { buf |= data[pos++] << cnt; cnt += 8; }
    const v = buf & ((1 << k) - 1);
    buf >>>= k; cnt -= k;
    return v;
  };
  // A canonical Huffman code as a lookup on the next `max` stream bits (codes are sent
  // most-significant bit first, so each code's entries sit at its bit-reversed value):
  // entry = symbol << 4 | code length.
  const table = (lengths) => {
    let max = 1;
    for (const l of lengths) if (l > max) max = l;
    const count = new Uint16Array(16), next = new Uint16Array(16);
    for (const l of lengths) count[l]++;
    count[0] = 0;
    for (let l = 1, code = 0; l < 16; l++) { code = (code + count[l - 1]) << 1; next[l] = code; }
    const lut = new Int32Array(1 << max).fill(-1);
    for (let s = 0; s < lengths.length; s++) {
      const l = lengths[s];
      if (!l) continue;
      let c = next[l]++, r = 0;
      for (let i = 0; i < l; i++) { r = (r << 1) | (c & 1); c >>= 1; }
      for (let f = r; f < lut.length; f += 1 << l) lut[f] = (s << 4) | l;
    }
    return { lut, max };
  };
  const decode = (h) => {
    while (cnt < h.max) { buf |= (data[pos++] | 0) << cnt; cnt += 8; }
    const e = h.lut[buf & ((1 << h.max) - 1)];
    if (e < 0) throw new Error("engine: corrupt deflate data");
    buf >>>= e & 15; cnt -= e & 15;
    return e >> 4;
  };
  const LBASE = [3, 4, 5, 6, 7, 8, 9, 10, 11, 13, 15, 17, 19, 23, 27, 31, 35, 43, 51, 59, 67, 83, 99, 115, 131, 163, 195, 227, 258];
  const LEXT = [0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3, 4, 4, 4, 4, 5, 5, 5, 5, 0];
  const DBASE = [1, 2, 3, 4, 5, 7, 9, 13, 17, 25, 33, 49, 65, 97, 129, 193, 257, 385, 513, 769, 1025, 1537, 2049, 3073, 4097, 6145, 8193, 12289, 16385, 24577];
  const DEXT = [0, 0, 0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6, 7, 7, 8, 8, 9, 9, 10, 10, 11, 11, 12, 12, 13, 13];
  const ORDER = [16, 17, 18, 0, 8, 7, 9, 6, 10, 5, 11, 4, 12, 3, 13, 2, 14, 1, 15];
  const fixedLit = table(Array.from({ length: 288 }, (_, s) => (s < 144 ? 8 : s < 256 ? 9 : s < 280 ? 7 : 8)));
  const fixedDist = table(new Array(30).fill(5));
  let last = 0;
  while (!last) {
    last = bits(1);
    const type = bits(2);
    if (type === 0) {
      // To the byte boundary, giving back whole bytes the decoder read ahead.
      pos -= cnt >> 3; buf = 0; cnt = 0;
      const len = data[pos] | (data[pos + 1] << 8);
      pos += 4;
      out.set(data.subarray(pos, pos + len), op);
      pos += len; op += len;
      continue;
    }
    let lit = fixedLit, dist = fixedDist;
    if (type === 2) {
      const nlen = bits(5) + 257, ndist = bits(5) + 1, ncode = bits(4) + 4;
      const cl = new Array(19).fill(0);
      for (let i = 0; i < ncode; i++) cl[ORDER[i]] = bits(3);
      const clt = table(cl);
      const lengths = [];
      while (lengths.length < nlen + ndist) {
        const sym = decode(clt);
        if (sym < 16) lengths.push(sym);
        else if (sym === 16) { const prev = lengths[lengths.length - 1]; for (let r = 3 + bits(2); r > 0; r--) lengths.push(prev); }
        else for (let r = sym === 17 ? 3 + bits(3) : 11 + bits(7); r > 0; r--) lengths.push(0);
      }
      lit = table(lengths.slice(0, nlen));
      dist = table(lengths.slice(nlen));
    } else if (type !== 1) throw new Error("engine: corrupt deflate block");
    for (;;) {
      const sym = decode(lit);
      if (sym < 256) out[op++] = sym;
      else if (sym === 256) break;
      else {
        const len = LBASE[sym - 257] + bits(LEXT[sym - 257]);
        const d = decode(dist);
        const back = DBASE[d] + bits(DEXT[d]);
        for (let i = 0; i < len; i++, op++) out[op] = out[op - back];
      }
    }
  }
  const crcTable = new Int32Array(256);
  for (let b = 0; b < 256; b++) {
    let c = b;
    for (let k = 0; k < 8; k++) c = (c >>> 1) ^ (0xedb88320 & -(c & 1));
    crcTable[b] = c;
  }
  let crc = -1;
  for (let i = 0; i < op; i++) crc = (crc >>> 8) ^ crcTable[(crc ^ out[i]) & 255];
  if (op !== out.length || ((crc ^ -1) >>> 0) !== u32(n - 8)) throw new Error("engine: gzip size or CRC mismatch");
  return out;
}
