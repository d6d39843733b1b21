fn main() {
    client::theme::apply(client::theme::saved());
    yew::Renderer::<client::app::App>::new().render();
}
