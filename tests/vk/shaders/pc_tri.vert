#version 450
// One small triangle per draw, placed and colored by push constants.
layout(push_constant) uniform Push {
    vec2 offset; // NDC position of the first corner
    float size;  // NDC edge length
    float pad;
    vec4 color;
} pc;
layout(location = 0) out vec4 v_color;

void main()
{
    vec2 corner = vec2(gl_VertexIndex == 1 ? 1.0 : 0.0, gl_VertexIndex == 2 ? 1.0 : 0.0);
    gl_Position = vec4(pc.offset + corner * pc.size, 0.0, 1.0);
    v_color = pc.color;
}
