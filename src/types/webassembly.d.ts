/**
 * The part of the WebAssembly JavaScript API that lafited uses
 * (src/model/memory/distance-kernel.ts). Node has it, but TypeScript declares
 * it only in the DOM and web-worker libraries, which would bring browser
 * globals into a Node program.
 */
declare namespace WebAssembly {
  type ImportValue = Memory | ((...args: never[]) => unknown);
  type Imports = Record<string, Record<string, ImportValue>>;
  type ExportValue = Memory | ((...args: never[]) => unknown);

  class Module {
    constructor(bytes: ArrayBufferView | ArrayBuffer);
  }

  class Instance {
    constructor(module: Module, imports?: Imports);
    readonly exports: Record<string, ExportValue>;
  }

  interface MemoryDescriptor {
    /** Pages of 64 KiB. */
    initial: number;
    maximum?: number;
    shared?: boolean;
  }

  class Memory {
    constructor(descriptor: MemoryDescriptor);
    readonly buffer: ArrayBuffer | SharedArrayBuffer;
  }
}
