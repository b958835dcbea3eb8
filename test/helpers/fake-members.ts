// Balancer test fixture: a member as proxy-core shows it to a balancer, switched up/down by hand.
import type { MemberView } from '../../plugins/proxy-core/types.js';

export interface FakeMember extends MemberView {
  up: boolean;
}

export function member(key: string, weight = 1): FakeMember {
  return {
    key, weight, up: true, active: 0, state: 'up',
    address: { kind: 'tcp', host: '127.0.0.1', port: 1 },
    available() { return this.up; },
  };
}
