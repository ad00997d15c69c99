// Public face of the mesh CA: istiod's signer, plug-in cacerts material, and the agent's CSR helpers.
export {
  CaError,
  type CacertsFiles,
  type CertificateAuthority,
  createSelfSignedAuthority,
  generateSelfSignedCa,
  loadPluggedInAuthority,
  loadSelfSignedAuthority,
  ROOT_VALIDITY_MS,
  readCacertsSecret,
  type SelfSignedCaFiles,
  type SignedCertificate,
} from './authority.js';
export {
  cacertsSecret,
  type GenerateCacertsOptions,
  generateCacerts,
  generateRoot,
  type RootMaterial,
} from './cacerts.js';
export { certificateNotAfter, certificateUris, createWorkloadCsr, spiffeId } from './csr.js';
