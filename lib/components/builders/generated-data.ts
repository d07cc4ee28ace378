/**
 * What Packer 1.6.6's provisioning step hands provisioners (`{{ build `PackerHTTPAddr` }}`, …)
 * when the builder serves no HTTP: none of Kiln's builders does yet.
 */
export const NO_HTTP = {
  PackerHTTPIP: 'ERR_HTTP_IP_NOT_IMPLEMENTED_BY_BUILDER',
  PackerHTTPPort: 'ERR_HTTP_PORT_NOT_IMPLEMENTED_BY_BUILDER',
  PackerHTTPAddr: 'ERR_HTTP_ADDR_NOT_IMPLEMENTED_BY_BUILDER',
} as const;
