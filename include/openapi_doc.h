/*
 * openapi_doc - tagd's OpenAPI 3.1 document (openapi/tagd.json), embedded at
 * build time by cmake/embed_openapi.cmake, which also refuses a document
 * that is not JSON.  Served as is at GET /openapi.json.
 */
#ifndef TAGD_OPENAPI_DOC_H
#define TAGD_OPENAPI_DOC_H

#include <stddef.h>

/* The document's bytes (UTF-8 JSON, not NUL-terminated); static, never freed. */
extern const unsigned char openapi_doc[];
extern const size_t openapi_doc_len;

#endif
