// The interactive API documentation: Swagger UI (shipped by the swagger-ui-py package, no CDN)
// on this server's OpenAPI document. A file of its own, as the pages' CSP allows no inline script.
window.ui = SwaggerUIBundle({ url: "/openapi.json", dom_id: "#swagger-ui", deepLinking: true });
