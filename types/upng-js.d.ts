declare module "upng-js" {
  interface Image {
    width: number;
    height: number;
    depth: number;
    ctype: number;
    frames: { rect: { x: number; y: number; width: number; height: number }; delay: number }[];
    tabs: Record<string, unknown>;
    data: ArrayBuffer;
  }
  /** Encodes RGBA frames; cnum 0 is lossless; dels are per-frame delays in ms (APNG when > 1 frame). */
  function encode(
    bufs: ArrayBuffer[],
    w: number,
    h: number,
    cnum: number,
    dels?: number[],
    forbidPlte?: boolean,
  ): ArrayBuffer;
  function decode(buf: ArrayBuffer | Uint8Array): Image;
  function toRGBA8(img: Image): ArrayBuffer[];
  const UPNG: { encode: typeof encode; decode: typeof decode; toRGBA8: typeof toRGBA8 };
  export default UPNG;
}
