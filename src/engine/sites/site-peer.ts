/**
 * From a site row to an IKE peer: the base settings (a template, "the shared settings kept
 * locally") plus what is specific to the site (gateway, identity, key, remote network).
 */
import { formatPrefix } from '../dataplane/address.js';
import type { PeerConfigInput } from '../ike/peer-config.js';
import { SiteDirectoryError } from './errors.js';
import { formatGateway, type Site } from './site.js';

/**
 * Everything of a peer that the site row does not provide. For certificate sites it carries
 * the concentrator's own certificate (`credential`) and the site CA (`trust`) of the Base-Peer.
 */
export type SitePeerTemplate = Omit<PeerConfigInput, 'name' | 'remoteGateways' | 'remoteId' | 'psk' | 'remotePsk' | 'remoteTs'>;

/** The site cannot be authenticated with what the template has (a certificate site without a CA). */
export class SiteAuthUnsupportedError extends SiteDirectoryError {
  static override readonly name: string = 'SiteAuthUnsupportedError';
}

/**
 * The peer for a site. The peer is named after the site. `gatewayAddress` is the gateway's
 * address when the row holds a host name (the engine resolves it; peer configs take addresses).
 *
 * A row with a PSK authenticates both ways with that key. A row with a certificate reference
 * authenticates both ways with certificates: the concentrator's own (the Base-Peer's) and the
 * site's, which must be signed by the site CA and carry the row's identity (the reference is
 * the operator's name for that certificate; the CA and the identity are what is checked).
 */
export function sitePeerConfigInput(site: Site, template: SitePeerTemplate, gatewayAddress?: string, defaultPort = 4500): PeerConfigInput {
  const port = site.gateway.port ?? defaultPort;
  const gateway = gatewayAddress === undefined ? formatGateway({ host: site.gateway.host, port }) : formatGateway({ host: gatewayAddress, port });
  const common = { ...template, name: site.name, remoteGateways: [gateway], remoteId: { ...site.identity }, remoteTs: [formatPrefix(site.network)] };
  if (site.psk !== undefined) {
    const { credential: _c, trust: _t, ...rest } = common;
    return { ...rest, authMethod: 'psk', remoteAuthMethod: 'psk', psk: site.psk };
  }
  if (!template.credential || !template.trust) {
    throw new SiteAuthUnsupportedError(
      `site '${site.name}' authenticates with certificate '${site.cert ?? ''}', but the Base-Peer has no own certificate and site CA (set its Auth profile's Local-Auth and Remote-Auth to RSA, ECDSA or EdDSA)`,
    );
  }
  return { ...common, authMethod: 'cert', remoteAuthMethod: 'cert', remoteCertIdCheck: true };
}

/** Whether the gateway of a site is a host name that needs resolving before sitePeerConfigInput. */
export function gatewayNeedsResolving(site: Site): boolean {
  return !/^[0-9.]+$/.test(site.gateway.host) && !site.gateway.host.includes(':');
}
