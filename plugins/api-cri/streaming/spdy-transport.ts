// spdy-transport, typed by spdy-types (the package has no type declarations).

import type { SpdyTransportModule } from './spdy-types';

export const spdyTransport = require('spdy-transport') as SpdyTransportModule;
