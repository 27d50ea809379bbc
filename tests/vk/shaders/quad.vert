#version 450
// A quad covering most of the target (two triangles, 6 vertices, no inputs).
layout(location = 0) out vec2 v_uv;

void main()
{
    const vec2 corners[6] = vec2[](vec2(0, 0), vec2(1, 0), vec2(0, 1),
                                   vec2(1, 0), vec2(1, 1), vec2(0, 1));
    vec2 c = corners[gl_VertexIndex];
    v_uv = c;
    gl_Position = vec4(c * 1.5 - 0.75, 0.0, 1.0);
}
