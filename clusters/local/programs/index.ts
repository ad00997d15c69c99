// Container programs of the local target: the image registry, its defaults, and the esbuild bundler.

import { registerDefaultImages } from './default-images.js';
import { createImageRegistry, type ImageRegistry } from './registry.js';

export { bundle as bundleProgram, createBundler, type ProgramBundler } from './bundler.js';
export { programEntry, registerDefaultImages } from './default-images.js';
export { type ImageReference, parseImageReference } from './image-reference.js';
export {
  type CommandResolution,
  createImageRegistry,
  type Executable,
  type ImageMatcher,
  type ImageProgram,
  type ImageRegistry,
  type ResolvedImage,
  resolveContainerCommand,
  resolveExecutable,
} from './registry.js';

/** A registry with the default images registered (fortio, busybox, curl, stress). */
export function createDefaultImageRegistry(): ImageRegistry {
  const registry = createImageRegistry();
  registerDefaultImages(registry);
  return registry;
}
