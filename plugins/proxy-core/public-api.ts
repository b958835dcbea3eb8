// `lantern/proxy-core`: what a protocol or balancer plugin written outside this repository
// imports (package.json "exports"): the protocol, balancer, transport and member contracts, the API other
// plugins reach proxy-core through, the response-head parser and its one validated constructor,
// and the error codes. Covered by the plugin API version (`lantern/plugin`).
export type {
  Balancer, BalancerDefinition, BalancerOptions, EnvRun, Exchange, ExchangeContext, FailureCounters, MemberAddress,
  MemberState, MemberView, ProtocolDefinition, ProtocolOptions, ProtocolOptionSpec, ResponseSink, TransportDefinition,
  TransportOpenContext, TransportStream, UpstreamRequest,
} from './types.js';
export type {
  BackendHandle, BackendOptions, BackendSnapshot, BackendSpec, ForwardOptions, MemberSnapshot, ProxyCoreApi,
  ProxyHooks, ProxySnapshot,
} from './api.js';
export { DEFAULT_BACKEND_OPTIONS } from './api.js';
export { checkResponseHead, makeResponseHead, parseResponseHead } from '../../core/http1/response-head.js';
export type { HeaderList, ResponseHead, ResponseHeadMode, ResponseHeadOptions, ResponseHeadResult } from '../../core/http1/types.js';
export { ERRORS, LanternError } from '../../core/errors.js';
export type { ErrorCode } from '../../core/errors.js';
