// A space's conflist: the bridge plugin (its own bridge as the subnet's gateway, host-local IPAM with the lease
// directory from the config) followed by portmap for published ports. The text is a pure function of its
// input, so `refresh` can tell a drifted file from the one kukeon wrote, byte for byte.

export const CNI_VERSION = '1.0.0';

export interface ConflistInput {
  network: string;
  bridge: string;
  subnet: string;
  gateway: string;
  ipamDataDir: string;
}

export function buildConflist(input: ConflistInput): string {
  const list = {
    cniVersion: CNI_VERSION,
    name: input.network,
    plugins: [
      {
        type: 'bridge',
        bridge: input.bridge,
        isGateway: true,
        // kukeon masquerades per space (one rule, removed with the space), not per container as the bridge would
        ipMasq: false,
        hairpinMode: true,
        ipam: {
          type: 'host-local',
          ranges: [[{ subnet: input.subnet, gateway: input.gateway }]],
          routes: [{ dst: '0.0.0.0/0' }],
          dataDir: input.ipamDataDir,
        },
      },
      { type: 'portmap', capabilities: { portMappings: true }, snat: true },
    ],
  };
  return `${JSON.stringify(list, null, 2)}\n`;
}
