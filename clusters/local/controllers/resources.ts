// The resource keys the controllers, kubelet and network use to reach the store (the store's registry).

export { KEYS as RESOURCES } from '../store/index.js';
