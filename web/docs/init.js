// Swagger UI for the gateway's merged OpenAPI document; a file of its own because the CSP forbids inline script.
window.SwaggerUIBundle({ url: "/openapi.json", dom_id: "#swagger-ui" });
